//! Where a key path sits in a YAML text, for errors that name the line.

/// The 1-based line of the key at `path` (each key searched below the previous one, at a
/// deeper indent), or of the nearest ancestor found.
pub fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut found = None;
    let mut start = 0;
    let mut indent: Option<usize> = None;
    let lines: Vec<&str> = text.lines().collect();
    'keys: for key in path {
        for (index, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            let this_indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if found.is_some() && indent.is_some_and(|outer| this_indent <= outer) {
                break 'keys;
            }
            let is_key = trimmed
                .strip_prefix(*key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
                || trimmed
                    .strip_prefix(&format!("\"{key}\""))
                    .is_some_and(|rest| rest.starts_with(':'));
            if is_key {
                found = Some(index + 1);
                indent = Some(this_indent);
                start = index + 1;
                continue 'keys;
            }
        }
        break;
    }
    found
}
