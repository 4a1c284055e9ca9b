//! The modules of `src/` are layered: no module reaches, through `crate::` paths, a module that
//! reaches it back (comments and unit tests aside). A cycle makes every module on it part of every other's change; this test
//! names the first one a change brings in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module (a file's stem under `src/`, or its folder) → the top-level modules its
/// files name with `crate::`.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        // Code, not comments; and not a file's unit tests (at its end), which may check one
        // layer's output with another's rules.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        let text: String =
            code.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let named = edges.entry(module.clone()).or_default();
        for target in crate_paths(&text) {
            if target != module {
                named.insert(target);
            }
        }
    }
    edges
}

/// The first segment of every `crate::` path in `text`, grouped imports included
/// (`use crate::{a::X, b}` names `a` and `b`).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|part| ident(part.trim())).filter(|name| !name.is_empty()));
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// A cycle through `start`, as the path of modules, if there is one.
fn cycle_from(start: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![start.to_string()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn no_module_reaches_itself_through_another() {
    let edges = edges();
    assert!(edges.contains_key("fetch") && edges["pipeline"].contains("fetch"), "the map is read: {edges:?}");
    for module in edges.keys() {
        if let Some(cycle) = cycle_from(module, &edges) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn a_cycle_is_found() {
    let text = "use crate::{feed::Channel, store};\nfn f() { crate::verify::check(); }";
    let named: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(named, ["feed", "store", "verify"]);
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(cycle_from("a", &edges).unwrap(), ["a", "b", "c", "a"]);
}

/// The library draws nothing: progress bars (indicatif) live in the binary's command layer,
/// and a run tells its progress through `model::Progress`.
#[test]
fn only_the_commands_draw() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut drawing = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(path) = folders.pop() {
        if path.is_dir() {
            folders.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path.starts_with(src.join("commands"))
            && std::fs::read_to_string(&path).unwrap().contains("indicatif")
        {
            drawing.push(path);
        }
    }
    assert!(drawing.is_empty(), "indicatif outside the command layer: {drawing:?}");
}

/// The demo website (the `podfeed_demo` crate, `demo/`) is for the binary's commands and the
/// tests: nothing the library compiles names it, its unit tests included.
#[test]
fn only_the_binary_uses_the_demo_site() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let binary = [src.join("main.rs"), src.join("cli.rs"), src.join("commands")];
    let mut using = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(path) = folders.pop() {
        if path.is_dir() {
            folders.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs")
            && !binary.iter().any(|part| path.starts_with(part))
            && std::fs::read_to_string(&path).unwrap().contains("podfeed_demo")
        {
            using.push(path);
        }
    }
    assert!(!src.join("demo").exists(), "the demo site lives in demo/, its own crate");
    assert!(using.is_empty(), "the library uses the demo site: {using:?}");
}
