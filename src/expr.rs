//! Expressions the command line and profiles share: `--match PATH=VALUE` selects resources,
//! `--ref PATH=TYPE` names a field holding another resource's id.

use std::str::FromStr;

/// `--match PATH=VALUE`: a dotted field path and the text its value must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchExpr {
    pub path: Vec<String>,
    pub value: String,
}

impl FromStr for MatchExpr {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| "expected PATH=VALUE".to_string())?;
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("invalid field path {path:?}"));
        }
        Ok(MatchExpr {
            path: path.split('.').map(str::to_string).collect(),
            value: value.to_string(),
        })
    }
}

/// `--ref PATH=TYPE`: a dotted field path holding the id of a resource of TYPE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefExpr {
    pub path: Vec<String>,
    pub kind: String,
}

impl FromStr for RefExpr {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expr: MatchExpr = text.parse().map_err(|_| "expected PATH=TYPE".to_string())?;
        if expr.value.is_empty() {
            return Err("expected PATH=TYPE with a type name".to_string());
        }
        Ok(RefExpr {
            path: expr.path,
            kind: expr.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_expr_parses_dotted_path() {
        let expr: MatchExpr = "meta.owner=ana=b".parse().unwrap();
        assert_eq!(expr.path, vec!["meta", "owner"]);
        assert_eq!(expr.value, "ana=b");
        assert!("novalue".parse::<MatchExpr>().is_err());
        assert!("a..b=1".parse::<MatchExpr>().is_err());
    }
}
