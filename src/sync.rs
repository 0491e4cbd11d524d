//! The run: read and layer the origins, filter, order, write, summarise.
//! The one place that sequences the pipeline and decides the exit status.

use std::hash::BuildHasher;
use std::sync::Arc;

use anyhow::Result;

use crate::backup::{self, Backup};
use crate::config::{Config, Undo};
use crate::endpoint::{self, http::HttpClient, Context, Endpoint, EndpointSpec, Stage, WriteSet};
use crate::exit_code::{usage, Exit};
use crate::filter;
use crate::format::Format;
use crate::graph::DependencyGraph;
use crate::interrupt::Interrupt;
use crate::plan::{self, Change, Comparison, Decision, March, Stale};
use crate::progress::Progress;
use crate::project::{Undefined, Vars};
use crate::read_set::ReadSet;
use crate::remap::{reference_keys, IdMap, RefIndex, SharedIdMap};
use crate::report::{Op, Outcome, Report, Status};
use crate::resource::{remove_fields, Resource};
use crate::schema::{self, ApiDialect, Dialect};
use crate::undo;

/// Carry out the configured sync and return the exit status.
pub async fn run(config: &Config, interrupt: Interrupt) -> Result<Exit> {
    let dialect: Arc<dyn Dialect> = match &config.api {
        Some(profile) => Arc::new(ApiDialect {
            profile: Arc::clone(profile),
        }),
        None => schema::dialect(config.schema),
    };
    let http = HttpClient::new(&config.client, &config.http_endpoints)?;
    let backup = start_backup(config)?;
    let mut report = Report::with_progress(Progress::for_stderr(config.quiet), config.json_output);
    if let Some(backup) = backup
        .as_ref()
        .filter(|_| backup::records_each_create(&config.destination))
    {
        report.keep_creates_in(backup.clone());
    }
    let id_map = SharedIdMap::new(IdMap::load(config.run.id_map.as_deref())?);
    let context = Context {
        run: &config.run,
        id_map: &id_map,
        dialect: &dialect,
        http: &http,
        report: &report,
        interrupt: &interrupt,
    };
    let destination = endpoint::open(&config.destination, &config.http_endpoints);
    // Putting a single file back replaces it: that is what the undo is for.
    if let (Some(undo), EndpointSpec::File(path, _)) = (&config.undo, &config.destination) {
        return put_file_back(config, (undo, backup.as_deref()), path, &context);
    }
    destination.check_writable(&context)?;
    let inventory = destination.inventory(&context, config.compare).await?;
    let march = March::new(inventory, comparison(config), config.compare);
    // Plans, diffs, verification, backups and undos see whole bodies (an undo deletes
    // before it writes), so only plain runs stream.
    let whole = config.dry_run || config.diff || config.verify;
    let mut stage = match whole || backup.is_some() || config.undo.is_some() {
        true => None,
        false => destination.stage(&march, &context)?,
    };
    let resources = read(config, &context, stage.as_deref_mut()).await?;
    check_collisions(&resources, &march)?;
    let graph = DependencyGraph::new(&resources);
    let order = graph.write_order(&resources)?;
    let set = WriteSet {
        resources: &resources,
        order: &order,
        graph: &graph,
    };
    let writer = (&*destination, backup.as_deref());
    survey(config, writer, (&resources, &march), &context).await?;
    write(config, writer, stage, &set, &march, &context).await?;
    if let (Some(undo), EndpointSpec::Directory(root)) = (&config.undo, &config.destination) {
        if !config.dry_run && !interrupt.is_requested() {
            undo::restore_bytes(undo, root, backup.as_deref())?;
        }
    }
    if config.verify && !interrupt.is_requested() {
        verify(config, &*destination, &set, &context).await?;
    }
    if config.undo.is_some() && !config.dry_run {
        name_recreated(config, &context);
    }
    finish(config, &context)
}

/// Let the march read the destination where the run's resources go. An undo looks for
/// what the backed-up run created there too, and deletes what is there (kept first in
/// its own backup, if it has one) before anything is written.
async fn survey(
    config: &Config,
    (destination, backup): (&dyn Endpoint, Option<&Backup>),
    (resources, march): (&[Resource], &March<'_>),
    context: &Context<'_>,
) -> Result<()> {
    let Some(undo) = &config.undo else {
        return march.survey(resources).await;
    };
    let created = undo::created(undo);
    let mut surveyed = resources.to_vec();
    surveyed.extend(created.iter().map(|entry| entry.resource.clone()));
    march.survey(&surveyed).await?;
    let endpoints = (destination, &config.destination);
    let run = (config.dry_run, backup, march);
    undo::delete_created(&created, endpoints, context, run).await
}

/// Two resources bound for one file or one URL (ids `1` and `"1"`, one id under two
/// uris) would overwrite each other, the winner varying between runs: the run stops
/// before any write, naming both (SPEC section 9).
fn check_collisions(resources: &[Resource], march: &March<'_>) -> Result<()> {
    let target_of = |resource| march.place(resource);
    // Hashes of the targets (randomly keyed: a server cannot aim at them) sorted, not a
    // map of target strings: a string per resource was most of this check's memory.
    // Resources with equal hashes are then compared by their targets' text.
    let keys = std::collections::hash_map::RandomState::new();
    let mut hashed: Vec<(u64, usize)> = resources
        .iter()
        .enumerate()
        .filter_map(|(index, resource)| Some((keys.hash_one(target_of(resource)?), index)))
        .collect();
    hashed.sort_unstable();
    for run in hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        for (position, &(_, later)) in run.iter().enumerate() {
            let (later, target) = (&resources[later], target_of(&resources[later]));
            for &(_, first) in &run[..position] {
                let first = &resources[first];
                if first.uri != later.uri && target_of(first) == target {
                    return Err(usage(format!(
                        "{} and {} would both be written to {}; refusing to write either",
                        first.uri,
                        later.uri,
                        target.unwrap_or_default()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The comparison of this run: `--ignore` paths left out; a server may add fields.
fn comparison(config: &Config) -> Comparison {
    Comparison {
        left_out: config.ignore.clone(),
        destination_may_add: config.destination.features().adds_fields,
    }
}

/// Read every origin, then keep what the filters select (with the parents they need).
async fn read(
    config: &Config,
    context: &Context<'_>,
    stage: Option<&mut (dyn Stage + '_)>,
) -> Result<Vec<Resource>> {
    context.report.progress().start_reading();
    // Nothing is written while reading: on a signal the read (and its stage) is dropped.
    let (resources, chosen) = tokio::select! {
        read = read_origins(config, context, stage) => read?,
        () = context.interrupt.requested() => return Err(context.interrupt.error()),
    };
    context.report.add_read(resources.len());
    let (mut resources, chosen) = without_clones(resources, chosen, config, context);
    // The (type, id) index costs a string pair per resource: built only when needed.
    if resources
        .iter()
        .any(|resource| !resource.references.is_empty())
    {
        RefIndex::new(&config.run.refs, &resources).add_parents(&mut resources);
    }
    Ok(filter::keep(resources, &chosen, &config.filters))
}

/// Plan (`--dry-run`), or write: commit the stage or write from memory (`--diff` prints
/// first); then, with `--rm`, delete what the march found stale.
async fn write(
    config: &Config,
    (destination, backup): (&dyn Endpoint, Option<&Backup>),
    stage: Option<Box<dyn Stage + '_>>,
    set: &WriteSet<'_>,
    march: &March<'_>,
    context: &Context<'_>,
) -> Result<()> {
    context.report.progress().start_writing(set.resources.len());
    let diff = config.diff && !config.json_output;
    let stale = match config.run.remove {
        true => march.stale(&set.resources.iter().collect::<Vec<_>>())?,
        false => Vec::new(),
    };
    if config.dry_run {
        let decisions = decide_all(set, march)?;
        let changes = changes(set, (&decisions, march), &stale, config.run.format);
        plan::print_plan(&changes, diff, config.json_output, context.report)?;
    } else {
        if let Some(stage) = stage {
            stage.commit(set, context).await?;
        } else {
            let decisions = decide_all(set, march)?;
            if let Some(backup) = backup {
                let changes = (&decisions[..], &stale[..]);
                let destination = (&config.destination, destination, context);
                backup::keep_before_writing(backup, destination, (set, march), changes).await?;
            }
            if diff {
                plan::print_diffs(&changes(
                    set,
                    (&decisions, march),
                    &stale,
                    config.run.format,
                ))?;
            }
            destination.write(set, &decisions, context).await?;
        }
        delete(config, destination, &stale, context).await?;
        if let Some(origin) = &config.records_origin {
            crate::provenance::record(&origin.tree, &origin.url, &origin.written)?;
        }
    }
    context.report.progress().finish();
    Ok(())
}

/// The march's decision for every resource, by index in `set.resources`.
fn decide_all(set: &WriteSet<'_>, march: &March<'_>) -> Result<Vec<Decision>> {
    set.resources
        .iter()
        .map(|resource| march.decide(resource, None))
        .collect()
}

/// SPEC section 12: `--backup DIR`, or a timestamped folder of the destination
/// environment's `backup`; nothing is on disk until the run changes something.
fn start_backup(config: &Config) -> Result<Option<Arc<Backup>>> {
    let Some(dir) = &config.backup else {
        return Ok(None);
    };
    let destination = config.destination.describe();
    let vars = config.vars.destination.clone();
    Ok(Some(Arc::new(Backup::new(dir, destination, vars)?)))
}

/// An undo into an API that assigns ids brings deleted resources back under new ids:
/// each is named (`recreated <old target> as <new target>`).
fn name_recreated(config: &Config, context: &Context<'_>) {
    let EndpointSpec::Http(base) = &config.destination else {
        return;
    };
    // A profile's uris are relative to the API.
    let target = |uri: &str| match url::Url::parse(uri) {
        Ok(_) => uri.to_string(),
        Err(_) => crate::project::join(base.as_str(), uri),
    };
    for (old, new) in context.id_map.lock().entries() {
        let line = format!("recreated {} as {}", target(old), target(new));
        context.report.progress().println(&line);
    }
}

/// `--undo` into a single file: it is put back whole.
fn put_file_back(
    config: &Config,
    (undo, backup): (&Undo, Option<&Backup>),
    path: &std::path::Path,
    context: &Context<'_>,
) -> Result<Exit> {
    let op = undo::put_file_back(undo, path, config.dry_run, backup)?;
    let status = match config.dry_run {
        true => Status::Planned,
        false => Status::Done(None),
    };
    context.report.record(Outcome::for_file(op, path, status));
    finish(config, context)
}

/// The decisions in write order, as plan lines and diffs, deletions last.
fn changes(
    set: &WriteSet<'_>,
    (decisions, march): (&[Decision], &March<'_>),
    stale: &[Stale],
    format: Format,
) -> Vec<Change> {
    let writes = set.indices().map(|index| {
        let (resource, decision) = (&set.resources[index], &decisions[index]);
        let before = decision.before().map(|body| format.serialize(body));
        let after = format.serialize(&march.comparable(resource));
        Change::for_resource(decision.op, resource, decision.target.clone())
            .with_texts(before, Some(after))
            .with_source(decision.source().map(String::from))
    });
    let deletions = stale.iter().map(|stale| {
        Change::for_resource(Op::Delete, &stale.resource, stale.target.clone())
            .with_texts(stale.text.clone(), None)
    });
    writes.chain(deletions).collect()
}

/// `--rm`: the stale entries deleted, unless a write failed, the run was interrupted,
/// or more are planned than `--max-delete` allows; blocked ones count as skipped.
async fn delete(
    config: &Config,
    destination: &dyn Endpoint,
    stale: &[Stale],
    context: &Context<'_>,
) -> Result<()> {
    let Some(reason) = deletions_blocked(stale, config.max_delete, context) else {
        return destination.delete(stale, context).await;
    };
    for entry in stale {
        let skipped = Status::Skipped(reason.clone());
        context.report.record(Outcome::new(
            Op::Delete,
            &entry.resource,
            entry.target.clone(),
            skipped,
        ));
    }
    Ok(())
}

/// Why the planned deletions must not be made, if so (then each is listed as `delete
/// <target>` on stderr when `--max-delete` is the reason).
fn deletions_blocked(
    stale: &[Stale],
    max_delete: Option<usize>,
    context: &Context<'_>,
) -> Option<String> {
    if stale.is_empty() {
        return None;
    }
    if context.report.has_failures() {
        return Some("a write failed, so nothing is deleted".to_string());
    }
    if context.interrupt.is_requested() {
        return Some("interrupted, so nothing is deleted".to_string());
    }
    let max = max_delete?;
    if stale.len() <= max {
        return None;
    }
    let reason = format!(
        "{} deletions planned, more than --max-delete {max}: none made",
        stale.len()
    );
    eprintln!("resource-sync: {reason}:");
    for entry in stale {
        eprintln!("delete {}", entry.target);
    }
    Some(reason)
}

/// `--verify`: read the destination again and march once more; every resource of the
/// run must now be unchanged. Prints `verified N of M` and a line per mismatch.
async fn verify(
    config: &Config,
    destination: &dyn Endpoint,
    set: &WriteSet<'_>,
    context: &Context<'_>,
) -> Result<()> {
    let inventory = destination.verify_inventory(context).await?;
    let march = March::new(inventory, comparison(config), true);
    march.survey(set.resources).await?;
    let mut verified = 0;
    let mut mismatches = Vec::new();
    for resource in set.ordered() {
        let decision = march.decide(resource, None)?;
        match decision.op {
            Op::Unchanged => verified += 1,
            Op::Create => mismatches.push(format!("mismatch {}: missing", decision.target)),
            _ => mismatches.push(format!(
                "mismatch {}: {}",
                decision.target,
                decision.difference().unwrap_or("differs")
            )),
        }
    }
    eprintln!("verified {verified} of {}", set.resources.len());
    for line in &mismatches {
        eprintln!("{}", crate::redact::redacted(line));
    }
    if !mismatches.is_empty() {
        context.report.fail_verification(mismatches.len());
    }
    Ok(())
}

/// The summary (text on stderr, JSON on stdout) and the exit status.
fn finish(config: &Config, context: &Context<'_>) -> Result<Exit> {
    let report = context.report;
    if context.interrupt.is_requested() {
        return Err(context.interrupt.error());
    }
    if config.json_output {
        report.print_json_summary();
    }
    if !config.quiet {
        eprintln!("{}", report.summary_line());
        // A server's message may echo a secret the run sent it.
        for line in report.failure_lines() {
            eprintln!("{}", crate::redact::redacted(&line));
        }
    }
    Ok(if report.has_failures() {
        Exit::Failed
    } else if config.exit_code && report.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// With `--create post`, resources the id map says were created by an earlier clone
/// (read back when the origin is the destination) are not cloned again.
fn without_clones(
    resources: Vec<Resource>,
    chosen: Vec<bool>,
    config: &Config,
    context: &Context<'_>,
) -> (Vec<Resource>, Vec<bool>) {
    if !config.run.create_by_post {
        return (resources, chosen);
    }
    let map = context.id_map.lock();
    let clones = map.new_uris();
    resources
        .into_iter()
        .zip(chosen)
        .filter(|(resource, _)| !clones.contains(&*resource.uri))
        .unzip()
}

/// SPEC section 11: the values of the environment read from become `${NAME}`, those of
/// the environment written to are filled in (identity and links left as read); a name
/// the destination does not define stops the run before anything is written.
fn swap_environment_values(
    resource: &mut Resource,
    (from, to): (Option<&Vars>, Option<&Vars>),
    context: &Context<'_>,
) -> Result<()> {
    if from.is_none() && to.is_none() {
        return Ok(());
    }
    let kept = context.identity_fields(resource);
    if let Some(vars) = from {
        vars.read_into_placeholders(&mut resource.body, &kept);
    }
    if let Some(vars) = to {
        vars.fill_in(&mut resource.body, &kept)
            .map_err(|Undefined(name)| {
                usage(format!(
                    "{}: ${{{name}}} is not in the vars of environment {}; nothing was written",
                    resource.uri, vars.environment
                ))
            })?;
    }
    Ok(())
}

/// Every origin in turn; on the same uri the later origin wins (layering). With a
/// stage, each body goes to the destination as it arrives and only identities are kept.
/// Returns the resources and whether each passed the filters (decided with its body).
async fn read_origins(
    config: &Config,
    context: &Context<'_>,
    mut stage: Option<&mut (dyn Stage + '_)>,
) -> Result<(Vec<Resource>, Vec<bool>)> {
    let filters = &config.filters;
    let mut read_set = ReadSet::default();
    for (position, spec) in config.origins.iter().enumerate() {
        let origin = endpoint::open(spec, &config.http_endpoints);
        let vars = (
            config.vars.origins.get(position).cloned().flatten(),
            config.vars.destination.as_deref(),
        );
        origin
            .read(context, &mut |mut resource: Resource| {
                // A local read runs between awaits: a signal (noted by the listener on a
                // thread of its own) is seen at the next resource.
                if context.interrupt.is_requested() {
                    return Err(context.interrupt.error());
                }
                context.report.progress().advance();
                // `--omit`: the fields never reach the destination (nor comparisons, nor plans).
                remove_fields(&mut resource.body, &config.omit);
                swap_environment_values(&mut resource, (vars.0.as_deref(), vars.1), context)?;
                resource.references = reference_keys(&config.run.refs, &resource.body).into();
                let uri_hash = read_set.share_text(&mut resource);
                let selected = filter::selected(&resource, filters);
                let resource = match stage.as_deref_mut() {
                    Some(stage) => {
                        let identity = resource.without_body();
                        stage.put(resource)?;
                        identity
                    }
                    None => resource,
                };
                read_set.add(resource, uri_hash, selected);
                Ok(())
            })
            .await?;
    }
    Ok(read_set.into_parts())
}
