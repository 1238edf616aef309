//! The build context on disk.
