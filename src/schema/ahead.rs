//! Pages asked for ahead (SPEC section 3, "Pages read ahead"): where the URL of the page
//! after next can be known before the next one arrives. A `next` link that differs from
//! its page's URL in exactly one integer query parameter steps on by that difference; a
//! page may state how far the chain goes (`count`, `total`, `pages`, a `Link` `last`).

use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::endpoint::spec::with_query;

/// How a chain's URLs step: `param` moves by `by` from one page to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStep {
    pub param: String,
    pub by: i64,
}

impl PageStep {
    /// The step from a page's URL to its `next`, where they differ in one integer query
    /// parameter only (`offset=100` -> `offset=200`). A first page often lacks the
    /// parameter (`/players` -> `/players?page=2`): its `next` then names page 2 (or 1,
    /// counting from 0), or the offset of the page's `members` after it; anything else is
    /// no step that can be told.
    pub fn between(page: &Url, next: &Url, members: usize) -> Option<PageStep> {
        if (page.scheme(), page.host_str(), page.port(), page.path())
            != (next.scheme(), next.host_str(), next.port(), next.path())
        {
            return None;
        }
        let pairs =
            |url: &Url| -> Vec<(String, String)> { url.query_pairs().into_owned().collect() };
        let (before, after) = (pairs(page), pairs(next));
        if before.len() + 1 == after.len() {
            return PageStep::from_first_page(&before, &after, members);
        }
        if before.len() != after.len() {
            return None;
        }
        let mut step = None;
        for ((name, old), (next_name, new)) in before.iter().zip(&after) {
            if name != next_name {
                return None;
            }
            if old == new {
                continue;
            }
            let (old, new) = (old.parse::<i64>().ok()?, new.parse::<i64>().ok()?);
            if step.is_some() || new <= old {
                return None;
            }
            step = Some(PageStep {
                param: name.clone(),
                by: new - old,
            });
        }
        step
    }

    /// The step from a page without the parameter to a `next` that adds it.
    fn from_first_page(
        before: &[(String, String)],
        after: &[(String, String)],
        members: usize,
    ) -> Option<PageStep> {
        let mut added = after.iter().filter(|pair| !before.contains(pair));
        let (param, value) = added.next()?;
        if added.next().is_some() || before.iter().any(|(name, _)| name == param) {
            return None;
        }
        let value = value.parse::<i64>().ok()?;
        let members = i64::try_from(members).ok()?;
        let by = match value {
            // Two members a page: page 2 or offset 2 cannot be told apart.
            2 if members == 2 => return None,
            1 | 2 => 1,
            offset if offset == members => offset,
            _ => return None,
        };
        Some(PageStep {
            param: param.clone(),
            by,
        })
    }

    /// The value of the parameter in `url`.
    pub fn value_in(&self, url: &Url) -> Option<i64> {
        url.query_pairs()
            .find(|(name, _)| *name == self.param)
            .and_then(|(_, value)| value.parse().ok())
    }

    /// `next` moved on `k` steps, and the parameter's value there.
    pub fn ahead(&self, next: &Url, k: i64) -> Option<(Url, i64)> {
        let value = self.value_in(next)? + self.by * k;
        Some((with_query(next, &self.param, &value.to_string()), value))
    }
}

/// What a page says of the whole chain: members in all, pages in all, or its last page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stated {
    pub members: Option<u64>,
    pub pages: Option<u64>,
    pub last: Option<Url>,
}

impl Stated {
    /// Read from a page's body (the rest, members taken out) and headers.
    pub fn of_page(rest: &Value, headers: &HeaderMap, base: &Url) -> Stated {
        let number = |path: &[&str]| {
            path.iter()
                .try_fold(rest, |value, key| value.as_object()?.get(*key))
                .and_then(Value::as_u64)
        };
        let members = [
            &["count"][..],
            &["total"],
            &["totalCount"],
            &["meta", "total"],
        ]
        .iter()
        .find_map(|path| number(path));
        let pages = [&["pages"][..], &["total_pages"]]
            .iter()
            .find_map(|path| number(path));
        let last = super::links::next_links_with(headers, "last")
            .into_iter()
            .next()
            .and_then(|link| base.join(&link.href).ok());
        Stated {
            members,
            pages,
            last,
        }
    }

    /// Whether the page states how far its chain goes.
    pub fn any(&self) -> bool {
        self.members.is_some() || self.pages.is_some() || self.last.is_some()
    }

    /// The largest value `step`'s parameter takes on a page of the chain, where a page
    /// holding `per_page` members says how far it goes: a page number (a step of 1) counts
    /// from `first_number`, an offset (a step of `per_page`) from 0. Any other step is a
    /// chain that jumped (page 2 -> 5, offset 100 -> 900): it does not tell which the
    /// parameter counts, so only a `last` link bounds it.
    pub fn bound(&self, step: &PageStep, per_page: u64, first_number: i64) -> Option<i64> {
        if let Some(value) = self.last.as_ref().and_then(|last| step.value_in(last)) {
            return Some(value);
        }
        if step.by == 1 {
            let pages = self.pages.or_else(|| {
                self.members
                    .map(|members| members.div_ceil(per_page.max(1)))
            })?;
            return Some(first_number + pages as i64 - 1);
        }
        if step.by as u64 != per_page {
            return None;
        }
        // An offset at or past the last member's is past the end.
        let members = self
            .members
            .or_else(|| self.pages.map(|pages| pages * step.by as u64))?;
        Some(members as i64 - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_link_steps_in_one_integer_parameter() {
        let url = |text: &str| Url::parse(text).unwrap();
        let step = PageStep::between(
            &url("http://h/p?offset=100&limit=100"),
            &url("http://h/p?offset=200&limit=100"),
            100,
        );
        assert_eq!(
            step,
            Some(PageStep {
                param: "offset".into(),
                by: 100
            })
        );
        let (third, value) = step
            .unwrap()
            .ahead(&url("http://h/p?offset=200&limit=100"), 2)
            .unwrap();
        assert_eq!(
            (third.as_str(), value),
            ("http://h/p?limit=100&offset=400", 400)
        );
        assert_eq!(
            PageStep::between(&url("http://h/p?c=ab"), &url("http://h/p?c=cd"), 5),
            None
        );
        assert_eq!(
            PageStep::between(
                &url("http://h/p?page=2&x=1"),
                &url("http://h/p?page=3&x=2"),
                5
            ),
            None
        );
    }

    #[test]
    fn a_first_page_without_the_parameter_steps_by_what_its_next_adds() {
        let url = |text: &str| Url::parse(text).unwrap();
        let step = |page: &str, next: &str, members| {
            PageStep::between(&url(page), &url(next), members).map(|step| (step.param, step.by))
        };
        let pages = Some(("page".to_string(), 1));
        assert_eq!(step("http://h/p", "http://h/p?page=2", 50), pages);
        assert_eq!(step("http://h/p?x=1", "http://h/p?x=1&page=1", 50), pages);
        let offsets = Some(("offset".to_string(), 100));
        assert_eq!(step("http://h/p", "http://h/p?offset=100", 100), offsets);
        // A cursor, or an offset that is not the page's size, tells no step.
        assert_eq!(step("http://h/p", "http://h/p?after=7311", 100), None);
        assert_eq!(step("http://h/p", "http://h/p?offset=100", 40), None);
        assert_eq!(step("http://h/p", "http://h/p?page=2", 2), None);
    }

    #[test]
    fn a_stated_total_bounds_the_chain() {
        let page = serde_json::json!({"count": 950, "next": "x"});
        let stated = Stated::of_page(&page, &HeaderMap::new(), &Url::parse("http://h/").unwrap());
        let step = PageStep {
            param: "page".into(),
            by: 1,
        };
        assert_eq!(stated.bound(&step, 100, 1), Some(10));
        let offsets = PageStep {
            param: "offset".into(),
            by: 100,
        };
        assert_eq!(stated.bound(&offsets, 100, 0), Some(949));
        // A jump (page 2 -> 5, offset 100 -> 400) could count pages or members: no bound.
        let jump = PageStep {
            param: "page".into(),
            by: 3,
        };
        assert_eq!(stated.bound(&jump, 100, 1), None);
        assert_eq!(stated.bound(&offsets, 50, 0), None);
    }
}
