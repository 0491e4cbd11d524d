//! Cloning into APIs that assign their own ids (`--create post`): the id map (old uri ->
//! new uri, kept in `--id-map`), reference rewriting, and the `--ref` field dependencies.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::atomic::write_atomically_with;
use crate::exit_code::{usage, ExitContext};
use crate::expr::RefExpr;
use crate::format::yaml::{to_yaml_document, YamlDocuments};
use crate::resource::{field_at, field_at_mut, scalar_text, typed_like, Resource, Shared};
use crate::schema::Dialect;

/// Old uri -> new uri. With a file, every new entry is appended at once (one line of a
/// YAML block mapping, so the file stays valid YAML even if the run is killed) and the
/// whole file is rewritten sorted, atomically, by `save`.
pub struct IdMap {
    entries: BTreeMap<String, String>,
    file: Option<PathBuf>,
    journal: Option<File>,
}

/// The run's one id map: the march's inventory reads it, the writer records each create
/// in it as it is answered.
#[derive(Clone)]
pub struct SharedIdMap(Arc<Mutex<IdMap>>);

impl SharedIdMap {
    pub fn new(map: IdMap) -> Self {
        SharedIdMap(Arc::new(Mutex::new(map)))
    }

    pub fn lock(&self) -> MutexGuard<'_, IdMap> {
        // Entries are inserted whole; a poisoned lock still holds a consistent map.
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl IdMap {
    /// The map in `path` (a missing or empty file is an empty map), or an empty one-shot map.
    pub fn load(path: Option<&Path>) -> Result<IdMap> {
        let entries = match path {
            Some(path) if path.exists() => read_map(path)?,
            _ => BTreeMap::new(),
        };
        Ok(IdMap {
            entries,
            file: path.map(Path::to_path_buf),
            journal: None,
        })
    }

    pub fn get(&self, old: &str) -> Option<&str> {
        self.entries.get(old).map(String::as_str)
    }

    /// The uris this map created: clones that an origin equal to the destination
    /// reads back, and which must not be cloned again.
    pub fn new_uris(&self) -> std::collections::HashSet<&str> {
        self.entries.values().map(String::as_str).collect()
    }

    /// Every old uri and the new uri it was created under.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(old, new)| (old.as_str(), new.as_str()))
    }

    /// Remember a created resource, on disk at once so a killed run does not create it twice.
    pub fn record(&mut self, old: String, new: String) -> Result<()> {
        if let Some(path) = &self.file {
            if self.journal.is_none() {
                self.save()?;
                let file = OpenOptions::new().append(true).open(path);
                self.journal = Some(file.with_context(|| format!("opening {}", path.display()))?);
            }
            if let Some(journal) = &mut self.journal {
                let line = mapping_lines(&BTreeMap::from([(old.clone(), new.clone())]));
                journal
                    .write_all(line.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        self.entries.insert(old, new);
        Ok(())
    }

    /// Rewrite the file sorted (atomically); a no-op without `--id-map`.
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let text = mapping_lines(&self.entries);
        write_atomically_with(path, |out| Ok(out.write_all(text.as_bytes())?))
    }
}

/// The block-mapping lines of a YAML document (no `---`, nothing for an empty map), so
/// lines for new entries can be appended to a file and it still reads as one mapping.
fn mapping_lines(entries: &BTreeMap<String, String>) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let map: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(old, new)| (old.clone(), Value::String(new.clone())))
        .collect();
    let document = to_yaml_document(&Value::Object(map));
    document
        .strip_prefix("---\n")
        .unwrap_or(&document)
        .to_string()
}

fn read_map(path: &Path) -> Result<BTreeMap<String, String>> {
    let place = || format!("--id-map {}", path.display());
    let file = File::open(path).with_context(place)?;
    let mut entries = BTreeMap::new();
    for document in YamlDocuments::new(std::io::BufReader::new(file)) {
        let document = document.usage_context(place)?;
        let Value::Object(map) = document else {
            if document.is_null() {
                continue;
            }
            return Err(usage(format!(
                "{}: expected a mapping of old uri to new uri",
                place()
            )));
        };
        for (old, new) in map {
            let Value::String(new) = new else {
                return Err(usage(format!(
                    "{}: the new uri of {old} is not a string",
                    place()
                )));
            };
            entries.insert(old, new);
        }
    }
    Ok(entries)
}

/// Finds, for a `--ref` field's old id, the resource it names in the read set.
pub struct RefIndex {
    refs: Vec<RefExpr>,
    uri_by_type_and_id: HashMap<(String, String), Shared>,
}

impl RefIndex {
    pub fn new(refs: &[RefExpr], resources: &[Resource]) -> Self {
        let uri_by_type_and_id = resources
            .iter()
            .map(|r| ((r.kind.to_string(), r.id_text()), r.uri.clone()))
            .collect();
        RefIndex {
            refs: refs.to_vec(),
            uri_by_type_and_id,
        }
    }

    /// The uri a `--ref` field of `body` points at, for each `--ref` that holds one.
    fn targets<'a>(
        &'a self,
        body: &'a Value,
    ) -> impl Iterator<Item = (&'a RefExpr, &'a Shared)> + 'a {
        self.refs.iter().filter_map(move |expr| {
            let old_id = scalar_text(field_at(body, &expr.path)?)?;
            let uri = self.uri_by_type_and_id.get(&(expr.kind.clone(), old_id))?;
            Some((expr, uri))
        })
    }

    /// Reference fields order writes as parent links do: each resource's `references`
    /// (taken while it was read) that name a resource of the set become its parents.
    pub fn add_parents(&self, resources: &mut [Resource]) {
        for resource in resources.iter_mut() {
            let references = resource.references.take();
            let mut parents = std::mem::take(&mut resource.parents).into_vec();
            for key in references {
                let Some(uri) = self.uri_by_type_and_id.get(&key) else {
                    continue;
                };
                if !parents.contains(uri) {
                    parents.push(uri.clone());
                }
            }
            resource.parents = parents.into();
        }
    }
}

/// `(type, id)` of what the reference fields `refs` of `body` name.
pub fn reference_keys(refs: &[RefExpr], body: &Value) -> Vec<(String, String)> {
    refs.iter()
        .filter_map(|expr| {
            let id = scalar_text(field_at(body, &expr.path)?)?;
            Some((expr.kind.clone(), id))
        })
        .collect()
}

/// The last path segment of a uri: the id an API gave a resource it created.
pub fn id_of_uri(uri: &str) -> &str {
    let path = uri
        .split(['?', '#'])
        .next()
        .unwrap_or(uri)
        .trim_end_matches('/');
    path.rsplit('/').next().unwrap_or(path)
}

/// A body ready to send to an id-assigning API: every reference to a mapped resource
/// rewritten (any string equal to a mapped uri: link hrefs, `parents`, fields; and
/// `--ref` fields holding an old id), and its own id set to its new id when it has one
/// (where the dialect keeps it).
pub fn rewrite(
    body: &Value,
    own_new_uri: Option<&str>,
    map: &IdMap,
    refs: &RefIndex,
    dialect: &dyn Dialect,
) -> Value {
    let mut body = body.clone();
    for (expr, old_uri) in refs.targets(&body.clone()) {
        if let Some(new_uri) = map.get(old_uri) {
            if let Some(field) = field_at_mut(&mut body, &expr.path) {
                *field = typed_like(field, id_of_uri(new_uri));
            }
        }
    }
    replace_mapped_strings(&mut body, map);
    if let Some(new_uri) = own_new_uri {
        dialect.set_own_id(&mut body, id_of_uri(new_uri));
    }
    body
}

fn replace_mapped_strings(value: &mut Value, map: &IdMap) {
    match value {
        Value::String(text) => {
            if let Some(new) = map.get(text) {
                *text = new.to_string();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_mapped_strings(item, map)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| replace_mapped_strings(field, map)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn player() -> Resource {
        Resource {
            uri: "http://o/api/player/7".into(),
            id: json!(7).into(),
            kind: "player".into(),
            parents: Box::new(["http://o/api/team/1".into()]),
            references: Default::default(),
            body: json!({"id": 7, "teamId": 1, "coach": "http://o/api/team/1",
                         "_links": {"self": {"href": "http://o/api/player/7"},
                                    "parent:team": {"href": "http://o/api/team/1"}}})
            .into(),
        }
    }

    fn team() -> Resource {
        Resource {
            uri: "http://o/api/team/1".into(),
            id: json!(1).into(),
            kind: "team".into(),
            parents: Box::default(),
            references: Default::default(),
            body: json!({"id": 1}).into(),
        }
    }

    #[test]
    fn references_follow_the_map() {
        let mut map = IdMap::load(None).unwrap();
        map.record("http://o/api/team/1".into(), "http://d/api/team/40".into())
            .unwrap();
        let refs = RefIndex::new(&["teamId=team".parse().unwrap()], &[team(), player()]);
        let body = rewrite(
            &player().body,
            Some("http://d/api/player/41"),
            &map,
            &refs,
            &crate::schema::Hal,
        );
        assert_eq!(body["teamId"], json!(40));
        assert_eq!(body["coach"], json!("http://d/api/team/40"));
        assert_eq!(
            body["_links"]["parent:team"]["href"],
            json!("http://d/api/team/40")
        );
        assert_eq!(body["id"], json!(41));
    }

    #[test]
    fn ref_fields_become_parents() {
        let mut resources = vec![team(), player()];
        resources[1].parents = Box::default();
        let refs = ["teamId=team".parse().unwrap()];
        resources[1].references = reference_keys(&refs, &resources[1].body).into();
        assert_eq!(
            *resources[1].references,
            [("team".to_string(), "1".to_string())]
        );
        RefIndex::new(&refs, &resources.clone()).add_parents(&mut resources);
        assert_eq!(&*resources[1].parents[0], "http://o/api/team/1");
        assert_eq!(resources[1].parents.len(), 1);
    }

    #[test]
    fn id_map_file_survives_appends_and_saves_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.yaml");
        let mut map = IdMap::load(Some(&path)).unwrap();
        map.record("http://o/b/2".into(), "http://d/b/9".into())
            .unwrap();
        map.record("http://o/a/1".into(), "http://d/a/8".into())
            .unwrap();
        let appended = IdMap::load(Some(&path)).unwrap();
        assert_eq!(appended.get("http://o/a/1"), Some("http://d/a/8"));
        map.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "http://o/a/1: http://d/a/8\nhttp://o/b/2: http://d/b/9\n"
        );
        assert_eq!(id_of_uri("http://d/api/team/40/?x=1"), "40");
        assert_eq!(typed_like(&json!(1), "40"), json!(40));
        assert_eq!(typed_like(&json!(1), "abc"), json!("abc"));
        assert_eq!(typed_like(&json!("1"), "40"), json!("40"));
    }
}
