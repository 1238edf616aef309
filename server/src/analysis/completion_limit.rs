//! Long completion lists cut to the items a client shows first, as clangd does (`--limit-results`,
//! 100 by default). A `${` in a file with hundreds of ARGs, or `--from=` after hundreds of
//! stages, lists them all; nobody scrolls through them, every client has to decode them on
//! each keystroke, and the answer would be most of the latency. A cut list is marked incomplete,
//! so the client asks again as the user types and the server narrows the list by what was typed.

use super::completion::CompletionItem;

/// The longest list sent whole; longer ones are cut to this many items.
pub const DEFAULT_LIMIT: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionList {
    pub items: Vec<CompletionItem>,
    /// Items were left out: the client must ask again when the typed word changes.
    pub incomplete: bool,
}

/// `items` (completion at byte `offset` of `text`) as sent to the client. A list of at most
/// `limit` items is sent whole, so that the client filters it as the user types. A longer one
/// keeps the items that match what is typed of each item's edit range, the ones it starts with
/// first, in their sort order, up to `limit`.
pub fn limit(text: &str, offset: usize, items: Vec<CompletionItem>, limit: usize) -> CompletionList {
    if items.len() <= limit {
        return CompletionList { items, incomplete: false };
    }
    let mut ranked: Vec<(bool, CompletionItem)> = items
        .into_iter()
        .filter_map(|item| {
            let typed = typed_text(text, offset, &item);
            let candidate = item.filter_text.as_deref().unwrap_or(&item.label);
            let prefix = starts_with_ignoring_case(candidate, typed);
            (prefix || is_subsequence_ignoring_case(typed, candidate)).then_some((!prefix, item))
        })
        .collect();
    ranked.sort_by(|(a_inside, a), (b_inside, b)| {
        a_inside.cmp(b_inside).then_with(|| a.sort_text.cmp(&b.sort_text)).then_with(|| a.label.cmp(&b.label))
    });
    ranked.truncate(limit);
    CompletionList { items: ranked.into_iter().map(|(_, item)| item).collect(), incomplete: true }
}

/// What the user has typed of the text the item replaces: from the start of its edit range to
/// the cursor (nothing when the range starts after the cursor).
fn typed_text<'t>(text: &'t str, offset: usize, item: &CompletionItem) -> &'t str {
    let start = item.edit_range.start;
    let end = offset.min(item.edit_range.end).min(text.len());
    text.get(start..end).unwrap_or("")
}

fn starts_with_ignoring_case(candidate: &str, typed: &str) -> bool {
    candidate.get(..typed.len()).is_some_and(|start| start.eq_ignore_ascii_case(typed))
}

/// Every character of `typed` occurs in `candidate`, in order: the loosest match a client's
/// fuzzy filter makes, so nothing the client would show is left out.
fn is_subsequence_ignoring_case(typed: &str, candidate: &str) -> bool {
    let mut rest = candidate.chars().flat_map(char::to_lowercase);
    typed.chars().flat_map(char::to_lowercase).all(|wanted| rest.any(|c| c == wanted))
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::{completion, fixture, Config};

    fn check(fixture: &str, limit_to: usize, expect: Expect) {
        let f = fixture::parse(fixture);
        let items = completion::completion(&f.file, f.offset(), f.facts(), &Config::default(), &Default::default());
        let list = limit(f.file.text(), f.offset(), items, limit_to);
        let labels: Vec<&str> = list.items.iter().map(|item| item.label.as_str()).collect();
        expect.assert_eq(&format!("incomplete: {}\n{}\n", list.incomplete, labels.join(" ")));
    }

    fn many_args(count: usize) -> String {
        (1..=count).map(|n| format!("ARG BASE_{n}\n")).collect()
    }

    #[test]
    fn a_short_list_is_sent_whole_and_unfiltered() {
        check(
            "ARG VERSION\nARG VARIANT\nFROM alpine:${V$0}\n",
            100,
            expect![[r#"
                incomplete: false
                VARIANT VERSION HTTP_PROXY http_proxy HTTPS_PROXY https_proxy FTP_PROXY ftp_proxy NO_PROXY no_proxy ALL_PROXY all_proxy TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
            "#]],
        );
    }

    #[test]
    fn a_long_list_keeps_the_first_items_in_sort_order() {
        check(
            &format!("{}FROM ${{$0}}\n", many_args(30)),
            5,
            expect![[r#"
                incomplete: true
                BASE_1 BASE_10 BASE_11 BASE_12 BASE_13
            "#]],
        );
    }

    #[test]
    fn a_long_list_is_narrowed_by_what_is_typed_prefix_matches_first() {
        check(
            &format!("{}FROM ${{base_2$0}}\n", many_args(30)),
            5,
            expect![[r#"
                incomplete: true
                BASE_2 BASE_20 BASE_21 BASE_22 BASE_23
            "#]],
        );
        check(
            &format!("{}FROM ${{B3$0}}\n", many_args(30)),
            40,
            expect![[r#"
                incomplete: true
                BASE_13 BASE_23 BASE_3 BASE_30
            "#]],
        );
    }

    #[test]
    fn a_match_is_a_subsequence_of_the_label() {
        assert!(is_subsequence_ignoring_case("bs3", "BASE_3"));
        assert!(is_subsequence_ignoring_case("", "BASE_3"));
        assert!(!is_subsequence_ignoring_case("sb", "BASE_3"));
        assert!(!is_subsequence_ignoring_case("base_33", "BASE_3"));
    }
}
