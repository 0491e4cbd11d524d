//! The generated profile as it is printed: YAML written by hand (the profile is small and
//! its `# guessed:` comments must sit right above the choices they qualify).

/// One setting of a type (or, when every type agrees, of the whole profile).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: &'static str,
    pub value: SettingValue,
    /// Why the value is a guess; `None` when the document settles it.
    pub guess: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    Text(String),
    List(Vec<String>),
}

impl Setting {
    pub fn text(key: &'static str, value: &str, guess: Option<String>) -> Setting {
        let value = SettingValue::Text(value.to_string());
        Setting { key, value, guess }
    }
}

/// A member field holding the id of a parent type.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    pub field: String,
    pub kind: String,
    pub guess: Option<String>,
}

/// A type as it will be printed.
pub struct TypeOut {
    pub name: String,
    pub path: String,
    pub item: Option<String>,
    /// Why the profile's default item path is used.
    pub item_guess: Option<String>,
    pub parents: Vec<Parent>,
    pub settings: Vec<Setting>,
    /// Why the type is printed commented out.
    pub skipped: Option<String>,
}

/// The profile's YAML: the header, settings every type shares, the types, then the notes.
pub fn render(header: &[String], mut types: Vec<TypeOut>, notes: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        comment(&mut out, "", line);
    }
    let active: Vec<usize> = (0..types.len())
        .filter(|&i| types[i].skipped.is_none())
        .collect();
    let mut shared = Vec::new();
    for setting in types[active[0]].settings.clone() {
        let everywhere = active.iter().all(|&i| types[i].settings.contains(&setting));
        if everywhere {
            for &i in &active {
                types[i].settings.retain(|s| *s != setting);
            }
            shared.push(setting);
        }
    }
    for setting in &shared {
        setting_lines(&mut out, "", setting);
    }
    out.push_str("types:\n");
    for t in &types {
        let mut block = String::new();
        type_lines(&mut block, t);
        match &t.skipped {
            None => out.push_str(&block),
            Some(reason) => {
                comment(&mut out, "  ", &format!("{} is left out: {reason}", t.name));
                for line in block.lines() {
                    out.push_str("  # ");
                    out.push_str(line.strip_prefix("  ").unwrap_or(line));
                    out.push('\n');
                }
            }
        }
    }
    for note in notes {
        comment(&mut out, "", note);
    }
    out
}

fn type_lines(out: &mut String, t: &TypeOut) {
    out.push_str(&format!("  {}:\n", plain_or_quoted(&t.name, false)));
    out.push_str(&format!("    path: {}\n", plain_or_quoted(&t.path, false)));
    if let Some(guess) = &t.item_guess {
        comment(out, "    ", &format!("guessed: {guess}"));
    }
    if let Some(item) = &t.item {
        out.push_str(&format!("    item: {}\n", plain_or_quoted(item, false)));
    }
    if !t.parents.is_empty() {
        out.push_str("    parents:\n");
        for parent in &t.parents {
            if let Some(guess) = &parent.guess {
                comment(out, "      ", &format!("guessed: {guess}"));
            }
            out.push_str(&format!(
                "      {}: {}\n",
                plain_or_quoted(&parent.field, false),
                plain_or_quoted(&parent.kind, false)
            ));
        }
    }
    for setting in &t.settings {
        setting_lines(out, "    ", setting);
    }
}

fn setting_lines(out: &mut String, indent: &str, setting: &Setting) {
    if let Some(guess) = &setting.guess {
        comment(out, indent, &format!("guessed: {guess}"));
    }
    let value = match &setting.value {
        SettingValue::Text(text) => plain_or_quoted(text, false),
        SettingValue::List(items) => {
            let items: Vec<String> = items.iter().map(|i| plain_or_quoted(i, true)).collect();
            format!("[{}]", items.join(", "))
        }
    };
    out.push_str(&format!("{indent}{}: {value}\n", setting.key));
}

fn comment(out: &mut String, indent: &str, text: &str) {
    out.push_str(&format!("{indent}# {}\n", text.replace(['\n', '\r'], " ")));
}

/// `text` as a YAML scalar: plain when that reads back as the same string, else JSON-quoted
/// (a JSON string is a YAML double-quoted scalar). `flow`: inside `[...]`, where `{}[],`
/// end a plain scalar.
fn plain_or_quoted(text: &str, flow: bool) -> String {
    const YAML_WORDS: [&str; 10] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let first_ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let chars_ok = text.chars().all(|c| {
        c.is_ascii_alphanumeric() || "_./-?&=".contains(c) || (!flow && "{}[]:".contains(c))
    });
    // `a:b` is plain in a block; `a:` would be a mapping.
    let colon_ok = !text.ends_with(':');
    let word = YAML_WORDS.contains(&text.to_ascii_lowercase().as_str());
    match first_ok && chars_ok && colon_ok && !word {
        true => text.to_string(),
        false => serde_json::to_string(text).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(
            plain_or_quoted("api/teams/{team}/", false),
            "api/teams/{team}/"
        );
        assert_eq!(plain_or_quoted("page[size]", false), "page[size]");
        assert_eq!(plain_or_quoted("page[size]", true), "\"page[size]\"");
        assert_eq!(plain_or_quoted("", false), "\"\"");
        assert_eq!(plain_or_quoted("yes", false), "\"yes\"");
        assert_eq!(plain_or_quoted("1", false), "\"1\"");
        assert_eq!(plain_or_quoted("body:next", false), "body:next");
        assert_eq!(plain_or_quoted("a:", false), "\"a:\"");
        assert_eq!(plain_or_quoted("a b", false), "\"a b\"");
    }
}
