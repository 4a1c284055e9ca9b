//! podfeed turns a podcast's website into a complete podcast RSS feed.
//!
//! The pipeline, one module per stage: [`recipe`] → [`crawl`] → [`fetch`] → [`extract`] →
//! [`store`] → [`feed`] → [`publish`], wired together by [`pipeline`].

pub mod crawl;
pub mod demo;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub mod recipe;
pub mod robots;
pub mod serve;
pub mod store;
