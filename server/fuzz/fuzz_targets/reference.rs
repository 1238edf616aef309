//! Image reference normalisation on arbitrary strings: `Reference::parse_normalized`,
//! `registry_path` and `archive_destination_path` never panic, and normalising is idempotent
//! (the normalised form parses to itself, and saves to the same `registry/` path).

#![no_main]

use kubefile_ls::context::reference::{archive_destination_path, registry_path, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(reference) = Reference::parse_normalized(text) {
        let normalized = reference.to_string();
        let again = Reference::parse_normalized(&normalized)
            .unwrap_or_else(|e| panic!("{text:?} normalises to {normalized:?}, which is rejected: {e}"));
        assert_eq!(again.to_string(), normalized, "normalising {text:?} twice");
        assert!(reference.name().ends_with(reference.path()), "path {:?} of {:?}", reference.path(), reference.name());
    }
    if let Ok(saved) = registry_path(text) {
        let again = registry_path(&saved.pulled_from)
            .unwrap_or_else(|e| panic!("{text:?} is pulled from {:?}, which is rejected: {e}", saved.pulled_from));
        assert_eq!(again, saved, "saving {text:?} and its normalised form");
    }
    let _ = archive_destination_path(text);
});
