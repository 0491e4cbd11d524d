//! TEMPORARY stub until the PyYAML-compatible module lands.
use serde_json::Value;
use std::io::Read;
pub fn to_yaml_document(value: &Value) -> String {
    format!("---\n{}\n", serde_json::to_string_pretty(value).unwrap_or_default())
}
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError { message: String }
impl YamlError { pub fn document(&self) -> Option<usize> { None } }
pub struct YamlDocuments<R: Read> { docs: std::vec::IntoIter<Result<Value, YamlError>>, _r: std::marker::PhantomData<R> }
impl<R: Read> YamlDocuments<R> {
    pub fn new(mut reader: R) -> Self {
        let mut text = String::new();
        let docs = match reader.read_to_string(&mut text) {
            Err(e) => vec![Err(YamlError { message: e.to_string() })],
            Ok(_) => match yaml_rust2::YamlLoader::load_from_str(&text) {
                Err(e) => vec![Err(YamlError { message: e.to_string() })],
                Ok(docs) => docs.iter().map(|d| Ok(convert(d))).collect(),
            },
        };
        YamlDocuments { docs: docs.into_iter(), _r: Default::default() }
    }
}
fn convert(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(convert).collect()),
        Yaml::Hash(h) => Value::Object(h.iter().map(|(k, v)| (k.as_str().map(String::from).unwrap_or_default(), convert(v))).collect()),
        _ => Value::Null,
    }
}
impl<R: Read> Iterator for YamlDocuments<R> {
    type Item = Result<Value, YamlError>;
    fn next(&mut self) -> Option<Self::Item> { self.docs.next() }
}
