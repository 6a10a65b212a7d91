//! `after`: each flow's written or implied dependencies, unknown names, a flow after itself
//! and cycles.
use super::*;

impl Checker<'_> {
    /// Resolves every flow's `after` (written, or implied for stock and price-list flows) and
    /// refuses unknown names, a flow after itself and cycles.
    pub(super) fn dependencies(&mut self, flows: &mut [Flow], written_flows: &[String]) {
        let valid_names: Vec<String> = flows.iter().map(|flow| flow.name.clone()).collect();
        let mut key_at: BTreeMap<String, Location> = BTreeMap::new();
        for written in std::mem::take(&mut self.written_after) {
            let Some(flow) = flows.iter_mut().find(|flow| flow.location == written.flow_at) else {
                continue;
            };
            key_at.insert(flow.name.clone(), written.key_at);
            let place = format!("flow \"{}\"", flow.name);
            for (name, at) in written.names {
                if name == flow.name {
                    self.problem(
                        at,
                        format!(
                            "{place}: `after` names the flow itself; a flow cannot run after itself: remove \"{name}\""
                        ),
                    );
                } else if !written_flows.contains(&name) {
                    let hint = suggest(&name, written_flows.iter().map(String::as_str))
                        .map(|close| format!(": did you mean \"{close}\"?"))
                        .unwrap_or_default();
                    self.problem(
                        at,
                        format!(
                            "{place}: `after` names flow \"{name}\", which does not exist{hint} defined flows: {}",
                            quoted_list(written_flows.iter().map(String::as_str))
                        ),
                    );
                } else if valid_names.contains(&name) && !flow.after.contains(&name) {
                    flow.after.push(name);
                }
            }
        }
        let product_flows: Vec<(String, String, String)> = flows
            .iter()
            .filter(|flow| flow.entity == EntityKind::Product && flow.enabled)
            .map(|flow| {
                (
                    flow.name.clone(),
                    flow.from.connection.clone(),
                    flow.to.connection.clone(),
                )
            })
            .collect();
        for flow in flows.iter_mut() {
            if flow.after_implied && matches!(flow.entity, EntityKind::Stock | EntityKind::PriceList) {
                flow.after = product_flows
                    .iter()
                    .filter(|(_, from, to)| *from == flow.from.connection && *to == flow.to.connection)
                    .map(|(name, _, _)| name.clone())
                    .collect();
            }
        }
        for cycle in cycles(flows) {
            let first = &flows[cycle[0]];
            let path: Vec<&str> = cycle
                .iter()
                .chain(std::iter::once(&cycle[0]))
                .map(|index| flows[*index].name.as_str())
                .collect();
            let implied: Vec<String> = cycle
                .iter()
                .map(|index| &flows[*index])
                .filter(|flow| flow.after_implied)
                .map(|flow| format!("\"{}\"", flow.name))
                .collect();
            let implied = if implied.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} runs after the product flows between its connections by default; `after = []` there opts out)",
                    implied.join(", ")
                )
            };
            let at = key_at.get(&first.name).copied().unwrap_or(first.location);
            self.problem(
                at,
                format!(
                    "flow \"{}\": `after` makes a cycle, {} (each runs after the next), so none of them could start{implied}: remove one of these dependencies",
                    first.name,
                    path.join(" → ")
                ),
            );
        }
    }
}

/// Every cycle of `after` among `flows`, once each, as indexes starting at the cycle's flow
/// that comes first in the file.
fn cycles(flows: &[Flow]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(index: usize, flows: &[Flow], marks: &mut [Mark], path: &mut Vec<usize>, found: &mut Vec<Vec<usize>>) {
        marks[index] = Mark::OnPath;
        path.push(index);
        for dependency in &flows[index].after {
            let Some(next) = flows.iter().position(|flow| flow.name == *dependency) else {
                continue;
            };
            match marks[next] {
                Mark::New => visit(next, flows, marks, path, found),
                Mark::OnPath => {
                    let start = path.iter().position(|on_path| *on_path == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    let first = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, index)| **index)
                        .map_or(0, |(at, _)| at);
                    cycle.rotate_left(first);
                    if !found.contains(&cycle) {
                        found.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[index] = Mark::Done;
    }
    let mut marks = vec![Mark::New; flows.len()];
    let mut found = Vec::new();
    for index in 0..flows.len() {
        if marks[index] == Mark::New {
            visit(index, flows, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}
