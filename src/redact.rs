//! Secret values kept out of every output (SPEC section 11): a var from a SECRET is sent
//! to its environment but printed nowhere, not in plan lines and diffs, `-v`, JSON lines,
//! errors (a server may echo what it was sent), nor verification. Each place that prints
//! text a run did not write itself passes it through `redacted`.

use std::borrow::Cow;
use std::sync::RwLock;

/// The secret values of this process's run, longest first, each with what it prints as.
static HIDDEN: RwLock<Vec<(String, String)>> = RwLock::new(Vec::new());

/// From now on, `value` prints as `shown_as`.
pub fn hide(value: &str, shown_as: &str) {
    let mut hidden = HIDDEN.write().unwrap_or_else(|poison| poison.into_inner());
    if hidden.iter().any(|(known, _)| known == value) {
        return;
    }
    hidden.push((value.to_string(), shown_as.to_string()));
    // A longer value holding a shorter one is replaced whole.
    hidden.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
}

/// `text` with every hidden value replaced by what it prints as.
pub fn redacted(text: &str) -> Cow<'_, str> {
    let hidden = HIDDEN.read().unwrap_or_else(|poison| poison.into_inner());
    let mut text = Cow::Borrowed(text);
    for (value, shown_as) in hidden.iter() {
        if text.contains(value.as_str()) {
            text = Cow::Owned(text.replace(value.as_str(), shown_as));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_values_print_as_their_placeholder() {
        hide("sk_live_abcdef", "${PAYMENTS_KEY}");
        hide("sk_live_abcdef_long", "${LONG_KEY}");
        assert_eq!(
            redacted("rejected key sk_live_abcdef_long and sk_live_abcdef"),
            "rejected key ${LONG_KEY} and ${PAYMENTS_KEY}"
        );
        assert!(matches!(redacted("nothing secret"), Cow::Borrowed(_)));
    }
}
