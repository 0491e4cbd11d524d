//! The run: read and layer the origins, filter, order, write, summarise.
//! The one place that sequences the pipeline and decides the exit status.

use std::collections::HashMap;

use anyhow::Result;

use crate::cli::CreateMode;
use crate::config::{Config, SchemaKind};
use crate::endpoint::{self, http::HttpClient, Context, Endpoint, Stage, WriteSet};
use crate::exit_code::{Exit, Interrupted};
use crate::filter;
use crate::graph::DependencyGraph;
use crate::interrupt::Interrupt;
use crate::plan;
use crate::progress::Progress;
use crate::remap::{IdMap, RefIndex};
use crate::report::Report;
use crate::resource::Resource;
use crate::schema::{Hal, Schema, Simple};

/// Carry out the configured sync and return the exit status.
pub async fn run(config: &Config, interrupt: Interrupt) -> Result<Exit> {
    let schema: Box<dyn Schema> = match config.schema {
        SchemaKind::Hal => Box::new(Hal),
        SchemaKind::Simple => Box::new(Simple),
    };
    let http = HttpClient::new(&config.http, config.verbose)?;
    let report = Report::with_progress(Progress::for_stderr(config.quiet), config.json_output);
    let context = Context {
        config,
        schema: &*schema,
        http: &http,
        report: &report,
        interrupt: &interrupt,
    };
    let destination = endpoint::open(&config.destination);
    destination.check_writable(&context)?;
    // Plans and diffs compare whole bodies, so only real writes stream through a stage.
    let mut stage = match config.dry_run || config.diff {
        true => None,
        false => destination.stage(&context)?,
    };
    let resources = read(&context, stage.as_deref_mut()).await?;
    let graph = DependencyGraph::new(&resources);
    let order = graph.write_order(&resources)?;
    let set = WriteSet {
        resources: &resources,
        order: &order,
        graph: &graph,
    };
    write(&*destination, stage, &set, &context).await?;
    finish(&context)
}

/// Read every origin, then keep what the filters select (with the parents they need).
async fn read(
    context: &Context<'_>,
    stage: Option<&mut (dyn Stage + '_)>,
) -> Result<Vec<Resource>> {
    let config = context.config;
    context.report.progress().start_reading();
    // Nothing is written while reading: on Ctrl-C the read (and its stage) is dropped.
    let (resources, chosen) = tokio::select! {
        read = read_origins(context, stage) => read?,
        () = context.interrupt.requested() => return Err(Interrupted.into()),
    };
    context.report.add_read(resources.len());
    let (mut resources, chosen) = without_clones(resources, chosen, config)?;
    RefIndex::new(&config.refs, &resources).add_parents(&mut resources);
    Ok(filter::keep(resources, &chosen, &config.filters))
}

/// Plan (`--dry-run`), commit the stage, or write from memory (`--diff` prints first).
async fn write(
    destination: &dyn Endpoint,
    stage: Option<Box<dyn Stage + '_>>,
    set: &WriteSet<'_>,
    context: &Context<'_>,
) -> Result<()> {
    let config = context.config;
    context.report.progress().start_writing(set.resources.len());
    let diff = config.diff && !config.json_output;
    if config.dry_run {
        let changes = destination.plan(set, context).await?;
        plan::print_plan(&changes, diff, config.json_output, context.report)?;
    } else if let Some(stage) = stage {
        stage.commit(set, context).await?;
    } else {
        if diff {
            plan::print_diffs(&destination.plan(set, context).await?)?;
        }
        destination.write(set, context).await?;
    }
    context.report.progress().finish();
    Ok(())
}

/// The summary (text on stderr, JSON on stdout) and the exit status.
fn finish(context: &Context<'_>) -> Result<Exit> {
    let (config, report) = (context.config, context.report);
    if context.interrupt.is_requested() {
        return Err(Interrupted.into());
    }
    if config.json_output {
        report.print_json_summary();
    }
    if !config.quiet {
        eprintln!("{}", report.summary_line());
        for line in report.failure_lines() {
            eprintln!("{line}");
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
) -> Result<(Vec<Resource>, Vec<bool>)> {
    if config.create != CreateMode::Post {
        return Ok((resources, chosen));
    }
    let map = IdMap::load(config.id_map.as_deref())?;
    let clones = map.new_uris();
    Ok(resources
        .into_iter()
        .zip(chosen)
        .filter(|(resource, _)| !clones.contains(resource.uri.as_str()))
        .unzip())
}

/// `--omit`: the fields never reach the destination (nor comparisons, nor plans).
fn omit_fields(resource: &mut Resource, paths: &[Vec<String>]) {
    for path in paths {
        crate::resource::remove_field(&mut resource.body, path);
    }
}

/// Every origin in turn; on the same uri the later origin wins (layering). With a
/// stage, each body goes to the destination as it arrives and only identities are kept.
/// Returns the resources and whether each passed the filters (decided with its body).
async fn read_origins(
    context: &Context<'_>,
    mut stage: Option<&mut (dyn Stage + '_)>,
) -> Result<(Vec<Resource>, Vec<bool>)> {
    let filters = &context.config.filters;
    let mut resources: Vec<Resource> = Vec::new();
    let mut chosen: Vec<bool> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for spec in &context.config.origins {
        let origin = endpoint::open(spec);
        origin
            .read(context, &mut |mut resource: Resource| {
                context.report.progress().advance();
                omit_fields(&mut resource, &context.config.omit);
                let selected = filter::selected(&resource, filters);
                let resource = match stage.as_deref_mut() {
                    Some(stage) => {
                        let identity = resource.without_body();
                        stage.put(resource)?;
                        identity
                    }
                    None => resource,
                };
                match position.get(&resource.uri) {
                    Some(&index) => (resources[index], chosen[index]) = (resource, selected),
                    None => {
                        position.insert(resource.uri.clone(), resources.len());
                        resources.push(resource);
                        chosen.push(selected);
                    }
                }
                Ok(())
            })
            .await?;
    }
    Ok((resources, chosen))
}
