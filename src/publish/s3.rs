//! Publishing to S3-compatible object storage (AWS S3, Cloudflare R2, Backblaze B2, Wasabi,
//! MinIO, Google Cloud Storage's S3 interface), with the `object_store` crate: it signs the
//! requests, retries 5xx answers and timeouts with back-off, and makes conditional writes.
//!
//! Objects are uploaded in the order given, the main feed last, so an app never reads a feed
//! that links a split feed not there yet, and a failure part-way leaves the published feed as
//! it was. What was written is remembered in the cache (each object's MD5 and the ETag the
//! storage gave): an object whose bytes are the same is not written again (a quiet night makes
//! no write), and every write is conditional on the object being the one podfeed wrote last
//! (`If-Match`) or absent (`If-None-Match: *`), so a feed someone else (or another machine)
//! wrote there is not overwritten without `--force`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, RetryConfig,
    UpdateVersion,
};
use serde::{Deserialize, Serialize};

/// A bucket and where in it, as the recipe says.
pub struct Bucket<'a> {
    pub target: &'a str,
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub endpoint: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// One object to write: the file whose bytes it gets, its name under the prefix, and whether the
/// bytes are gzip (the file is the `.gz` beside the one named: stored with
/// `Content-Encoding: gzip`, which the storage serves as it is and every HTTP client decodes).
#[derive(Debug, Clone)]
pub struct Object {
    pub path: PathBuf,
    pub name: String,
    pub gzip: bool,
}

/// Why a target was not published to, whole; the main feed there is as it was.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct S3Error {
    pub target: String,
    pub reason: String,
}

/// What a publish wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub objects: usize,
    pub removed: usize,
}

/// Writes `objects` (in this order: the main feed last) under the prefix, each unless the
/// storage has its bytes already from us, each conditionally; then removes the objects podfeed
/// wrote there before and no longer writes (split feeds of a year that moved), if they are still
/// as it wrote them. `state` is the file in the cache that remembers what was written.
pub async fn publish(
    to: &Bucket<'_>,
    state: &Path,
    objects: &[Object],
    cache_control: &str,
    force: bool,
) -> Result<Written, S3Error> {
    let fail = |reason: String| S3Error { target: to.target.to_string(), reason };
    let store = client(to).map_err(fail)?;
    let mut remembered = Remembered::read(state);
    let mut written = Written::default();
    let mut keys = Vec::new();
    for object in objects {
        let body =
            std::fs::read(&object.path).map_err(|e| fail(format!("cannot read {}: {e}", object.path.display())))?;
        let md5 = hex(&Md5::digest(&body));
        let key = format!("{}{}", to.prefix, object.name);
        keys.push(key.clone());
        let last = remembered.objects.get(&key);
        if last.is_some_and(|last| last.md5 == md5) && !force {
            continue;
        }
        let mode = match last {
            _ if force => PutMode::Overwrite,
            Some(last) => PutMode::Update(UpdateVersion { e_tag: Some(last.e_tag.clone()), version: None }),
            None => PutMode::Create,
        };
        let put = Put { key: &key, body, md5: &md5, attributes: attributes(object, cache_control) };
        let e_tag = put.write(&store, mode).await.map_err(|why| match why {
            Refused::NotOurs => fail(format!(
                "{key} in {} is not the object podfeed wrote there last (someone else, or another machine \
                 publishing to the same place, wrote it): left as it is; --force replaces it",
                to.bucket
            )),
            Refused::Failed(e) => fail(format!("writing {key} failed: {e}")),
        })?;
        remembered.objects.insert(key, WrittenObject { md5, e_tag });
        remembered.write(state).map_err(fail)?;
        written.objects += 1;
    }
    let gone: Vec<String> = remembered.objects.keys().filter(|key| !keys.contains(key)).cloned().collect();
    for key in gone {
        let path = Key::from(key.as_str());
        let still_ours = store.head(&path).await.ok().and_then(|meta| meta.e_tag)
            == remembered.objects.get(&key).map(|o| o.e_tag.clone());
        if still_ours {
            store.delete(&path).await.map_err(|e| fail(format!("removing {key} failed: {e}")))?;
            written.removed += 1;
        }
        remembered.objects.remove(&key);
        remembered.write(state).map_err(fail)?;
    }
    Ok(written)
}

/// One object's write.
struct Put<'a> {
    key: &'a str,
    body: Vec<u8>,
    md5: &'a str,
    attributes: Attributes,
}

/// Why an object was not written.
enum Refused {
    /// The object there is not the one podfeed wrote last.
    NotOurs,
    Failed(object_store::Error),
}

impl Put<'_> {
    /// Writes the object in `mode`; its new ETag.
    async fn write(self, store: &AmazonS3, mode: PutMode) -> Result<String, Refused> {
        let path = Key::from(self.key);
        let options = PutOptions { mode: mode.clone(), attributes: self.attributes.clone(), ..Default::default() };
        let mut result = store.put_opts(&path, self.body.clone().into(), options).await;
        if matches!((&mode, &result), (PutMode::Update(_), Err(object_store::Error::Precondition { .. })))
            && matches!(store.head(&path).await, Err(object_store::Error::NotFound { .. }))
        {
            // Gone since (a bucket emptied or moved): written anew, still only if absent.
            let options = PutOptions { mode: PutMode::Create, attributes: self.attributes, ..Default::default() };
            result = store.put_opts(&path, self.body.into(), options).await;
        }
        match result {
            Ok(put) => match put.e_tag {
                Some(e_tag) => Ok(e_tag),
                None => Ok(store.head(&path).await.ok().and_then(|meta| meta.e_tag).unwrap_or_default()),
            },
            // Already these bytes (a write whose answer was lost): ours. Else someone else's.
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                same_bytes(store, &path, self.md5).await.ok_or(Refused::NotOurs)
            }
            Err(other) => Err(Refused::Failed(other)),
        }
    }
}

/// The object's ETag, if its bytes have this MD5.
async fn same_bytes(store: &AmazonS3, path: &Key, md5: &str) -> Option<String> {
    let got = store.get(path).await.ok()?;
    let e_tag = got.meta.e_tag.clone();
    let bytes = got.bytes().await.ok()?;
    (hex(&Md5::digest(&bytes)) == md5).then_some(e_tag).flatten()
}

/// Whether the environment gives credentials: keys, or a role (web identity, a container's).
fn credentials_in_environment() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    (set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY"))
        || set("AWS_WEB_IDENTITY_TOKEN_FILE")
        || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
}

/// The client: credentials, and the region and endpoint when the recipe does not say them, from
/// the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`...), never from the recipe.
fn client(to: &Bucket) -> Result<AmazonS3, String> {
    if !credentials_in_environment() {
        // Without them the client would ask a cloud's instance metadata service, on every run.
        return Err("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a role's \
                    AWS_WEB_IDENTITY_TOKEN_FILE) in podfeed's environment"
            .into());
    }
    let from_environment =
        ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"].iter().find_map(|name| std::env::var(name).ok());
    let plain_http = to.endpoint.map(str::to_string).or(from_environment).is_some_and(|e| e.starts_with("http://"))
        || std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(to.bucket)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(10),
                base: 2.0,
            },
            max_retries: 4,
            retry_timeout: Duration::from_secs(60),
        })
        // `with_client_options` replaces them all: `allow_http` goes in here.
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(plain_http)
                .with_timeout(Duration::from_secs(60))
                .with_connect_timeout(Duration::from_secs(10)),
        );
    if let Some(endpoint) = to.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(region) = to.region {
        builder = builder.with_region(region);
    }
    builder.build().map_err(|e| format!("cannot use the bucket: {e}"))
}

/// What the object is, for the apps and browsers that read it.
fn attributes(object: &Object, cache_control: &str) -> Attributes {
    let name = object.name.as_str();
    let content_type = match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("xml" | "rss") => "application/rss+xml; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    };
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.into());
    attributes.insert(Attribute::CacheControl, cache_control.to_string().into());
    if object.gzip {
        attributes.insert(Attribute::ContentEncoding, "gzip".into());
    }
    attributes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What podfeed wrote to one target, kept in the cache folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    objects: BTreeMap<String, WrittenObject>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WrittenObject {
    md5: String,
    e_tag: String,
}

impl Remembered {
    /// Nothing remembered (no file, or one that does not read) writes everything again, each
    /// write conditional on the object being absent.
    fn read(path: &Path) -> Remembered {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    fn write(&self, path: &Path) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        crate::publish::write_atomic(path, &bytes).map(drop).map_err(|e| e.to_string())
    }
}
