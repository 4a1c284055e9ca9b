//! What Apple Podcasts (and the directories that follow its rules) check in a feed: category
//! names from its list, an ISO 639 language, square artwork of 1400–3000 px in JPEG or PNG.
//! Pure: the recipe calls the name checks at load, the pipeline the artwork check with the
//! image's first bytes.

use std::fmt;

/// Apple's podcast categories, each with its subcategories (the list of 2019, still current).
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("Arts", &["Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"]),
    ("Business", &["Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"]),
    ("Comedy", &["Comedy Interviews", "Improv", "Stand-Up"]),
    ("Education", &["Courses", "How To", "Language Learning", "Self-Improvement"]),
    ("Fiction", &["Comedy Fiction", "Drama", "Science Fiction"]),
    ("Government", &[]),
    ("History", &[]),
    ("Health & Fitness", &["Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"]),
    ("Kids & Family", &["Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"]),
    (
        "Leisure",
        &["Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"],
    ),
    ("Music", &["Music Commentary", "Music History", "Music Interviews"]),
    (
        "News",
        &[
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ],
    ),
    (
        "Religion & Spirituality",
        &["Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"],
    ),
    (
        "Science",
        &[
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ],
    ),
    ("Society & Culture", &["Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"]),
    (
        "Sports",
        &[
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ],
    ),
    ("Technology", &[]),
    ("True Crime", &[]),
    ("TV & Film", &["After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"]),
];

/// A category path (`"Business"` or `"Business/Investing"`) as Apple spells it. Case and spaces
/// around the slash do not matter; anything else not on the list is an error naming the nearest
/// name that is.
pub fn category(path: &str) -> Result<String, String> {
    let (parent, child) = match path.split_once('/') {
        Some((parent, child)) => (parent.trim(), Some(child.trim())),
        None => (path.trim(), None),
    };
    let same = |name: &&str| name.eq_ignore_ascii_case(parent);
    let Some((parent, children)) = CATEGORIES.iter().find(|(name, _)| same(name)) else {
        let nearest = nearest(path, all_paths());
        return Err(format!("{path:?} is not one of Apple's categories; the nearest is {nearest:?}"));
    };
    let Some(child) = child else { return Ok(parent.to_string()) };
    match children.iter().find(|name| name.eq_ignore_ascii_case(child)) {
        Some(child) => Ok(format!("{parent}/{child}")),
        None if children.is_empty() => Err(format!("{parent:?} has no subcategories in Apple's list")),
        None => {
            let nearest = nearest(child, children.iter().copied());
            Err(format!("{path:?} is not one of Apple's categories; the nearest is \"{parent}/{nearest}\""))
        }
    }
}

/// Every category path on Apple's list.
fn all_paths() -> impl Iterator<Item = String> {
    CATEGORIES.iter().flat_map(|(parent, children)| {
        std::iter::once(parent.to_string()).chain(children.iter().map(move |child| format!("{parent}/{child}")))
    })
}

/// The candidate most like `word`, ignoring case; a subcategory's path is also compared by its
/// own name (`Investing` is nearest to `Business/Investing`).
fn nearest<S: AsRef<str>>(word: &str, candidates: impl Iterator<Item = S>) -> String {
    let word = word.to_lowercase();
    let similarity = |name: &str| strsim::jaro_winkler(&word, &name.to_lowercase());
    let score = |candidate: &str| {
        let leaf = candidate.rsplit('/').next().unwrap_or(candidate);
        similarity(candidate).max(similarity(leaf))
    };
    candidates
        .map(|c| (score(c.as_ref()), c.as_ref().to_string()))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
        .unwrap_or_default()
}

/// A language tag whose first part is an ISO 639 code (`en`, `en-us`, `fil`), lower-cased as
/// RSS writes it; else an error saying what it is not, with the code for a language's name.
pub fn language(tag: &str) -> Result<String, String> {
    let tag = tag.trim().to_ascii_lowercase();
    let mut parts = tag.split(['-', '_']);
    let code = parts.next().unwrap_or_default();
    let known = match code.len() {
        2 => isolang::Language::from_639_1(code).is_some() || OLD_639_1.contains(&code),
        3 => isolang::Language::from_639_3(code).is_some() || BIBLIOGRAPHIC_639_2.contains(&code),
        _ => false,
    };
    if !known {
        let name = tag.clone();
        let named = isolang::Language::match_names(move |n| n.eq_ignore_ascii_case(&name)).find_map(|l| l.to_639_1());
        let hint = named.map(|code| format!(" (for that language, write {code:?})")).unwrap_or_default();
        return Err(format!("{tag:?} does not start with an ISO 639 language code such as \"en\"{hint}"));
    }
    // Region and script subtags: letters and digits, 1 to 8 of them (RFC 5646).
    if !parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return Err(format!("{tag:?} is not a language tag such as \"en-us\""));
    }
    Ok(tag.replace('_', "-"))
}

/// ISO 639-1 codes withdrawn in 1989 that feeds and browsers still send (Hebrew, Indonesian,
/// Yiddish).
const OLD_639_1: &[&str] = &["iw", "in", "ji"];

/// ISO 639-2's bibliographic codes, which differ from the terminology codes ISO 639-3 uses
/// (`fre` for `fra`, French).
const BIBLIOGRAPHIC_639_2: &[&str] = &[
    "alb", "arm", "baq", "bur", "chi", "cze", "dut", "fre", "geo", "ger", "gre", "ice", "mac", "mao", "may", "per",
    "rum", "slo", "tib", "wel",
];

/// Bytes of an image enough to read its dimensions: JPEG keeps them after its metadata
/// (EXIF, a thumbnail), which seldom takes more than a few KB.
pub const ARTWORK_PREFIX_BYTES: u64 = 128 * 1024;

/// Apple's bounds for show artwork, in pixels.
pub const MIN_ARTWORK_PX: usize = 1400;
pub const MAX_ARTWORK_PX: usize = 3000;

/// What Apple asks of show artwork, said after any [`ArtworkProblem`].
pub const ARTWORK_RULE: &str = "Apple Podcasts asks for a square JPEG or PNG of 1400 to 3000 px";

/// What is wrong with a show's artwork, for Apple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtworkProblem {
    /// Neither JPEG nor PNG (or not an image).
    Format,
    /// A JPEG or PNG whose dimensions its first bytes do not give.
    Unreadable,
    NotSquare {
        width: usize,
        height: usize,
    },
    OutOfBounds {
        side: usize,
    },
}

impl fmt::Display for ArtworkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtworkProblem::Format => write!(f, "is not a JPEG or PNG image"),
            ArtworkProblem::Unreadable => write!(
                f,
                "does not say its size in its first {} KB (a JPEG with much metadata): check its size by hand",
                ARTWORK_PREFIX_BYTES / 1024
            ),
            ArtworkProblem::NotSquare { width, height } => write!(f, "is {width}×{height} px, not square"),
            ArtworkProblem::OutOfBounds { side } => write!(f, "is {side}×{side} px"),
        }
    }
}

/// Checks artwork from its first bytes ([`ARTWORK_PREFIX_BYTES`] are enough).
pub fn artwork(first_bytes: &[u8]) -> Result<(), ArtworkProblem> {
    use imagesize::ImageType;
    match imagesize::image_type(first_bytes) {
        Ok(ImageType::Jpeg | ImageType::Png) => {}
        _ => return Err(ArtworkProblem::Format),
    }
    let size = imagesize::blob_size(first_bytes).map_err(|_| ArtworkProblem::Unreadable)?;
    let (width, height) = (size.width, size.height);
    if width != height {
        return Err(ArtworkProblem::NotSquare { width, height });
    }
    if !(MIN_ARTWORK_PX..=MAX_ARTWORK_PX).contains(&width) {
        return Err(ArtworkProblem::OutOfBounds { side: width });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_spelt_as_apple_does_or_named_nearest() {
        assert_eq!(category("business / investing"), Ok("Business/Investing".into()));
        assert_eq!(category("TV & Film"), Ok("TV & Film".into()));
        let error = category("Buisness").unwrap_err();
        assert!(error.contains("the nearest is \"Business\""), "{error}");
        let error = category("Business/Investment").unwrap_err();
        assert!(error.contains("\"Business/Investing\""), "{error}");
        let error = category("Technolgy").unwrap_err();
        assert!(error.contains("\"Technology\""), "{error}");
        assert!(category("History/Wars").unwrap_err().contains("has no subcategories"));
        let error = category("Investing").unwrap_err();
        assert!(error.contains("\"Business/Investing\""), "a subcategory alone is found under its parent: {error}");
    }

    #[test]
    fn languages_start_with_an_iso_639_code() {
        assert_eq!(language("en-US"), Ok("en-us".into()));
        assert_eq!(language("fil"), Ok("fil".into()));
        assert_eq!(language("pt_BR"), Ok("pt-br".into()));
        for code in ["fre", "ger-at", "chi", "iw", "deu"] {
            assert!(language(code).is_ok(), "{code}");
        }
        assert!(language("xx").is_err());
        assert!(language("en-").is_err());
        assert!(language("en-unitedstates").is_err());
        let error = language("English").unwrap_err();
        assert!(error.contains("write \"en\""), "{error}");
    }
}
