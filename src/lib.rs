//! podfeed turns a podcast's website into a complete podcast RSS feed.
//!
//! The pipeline, one module per stage: [`recipe`] → [`crawl`] → [`fetch`] (asking [`robots`])
//! → [`extract`] (with the [`parse`] helpers) → [`store`] → [`feed`] → [`publish`], wired
//! together by [`pipeline`]; [`model`] holds the plain types that cross stages. Beside it:
//! [`demo`], the built-in demo website, and [`serve`], the preview server.

pub mod crawl;
pub mod demo;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod html;
pub mod hygiene;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub mod recipe;
pub mod robots;
pub mod serve;
pub mod store;
pub mod verify;
