//! Shared code of the kubefile-ls fuzz targets (see README.md).

pub mod requests;
