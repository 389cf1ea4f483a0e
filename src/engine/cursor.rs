//! Where one host stands in a tree of tasks: blocks with rescue and always,
//! and dynamically included files. The strategy asks each host's cursor for
//! its next task and reports back how the task ended.

use std::sync::Arc;

use crate::playbook::{Block, Common, Task, TaskNode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Main,
    Rescue,
    Always,
}

enum Source {
    /// A plain list: a play section or an included file (with its scope).
    List {
        nodes: Arc<Vec<TaskNode>>,
        scope: Option<Arc<Block>>,
    },
    Block {
        block: Arc<Block>,
        section: Section,
        /// A failure to re-raise once `always` has run.
        pending_failure: bool,
    },
}

struct Frame {
    src: Source,
    idx: usize,
}

impl Frame {
    fn nodes(&self) -> &[TaskNode] {
        match &self.src {
            Source::List { nodes, .. } => nodes,
            Source::Block { block, section, .. } => match section {
                Section::Main => &block.block,
                Section::Rescue => &block.rescue,
                Section::Always => &block.always,
            },
        }
    }
}

/// The next task and the blocks (outermost first) whose keywords it inherits.
#[derive(Clone, Debug)]
pub struct Next {
    pub task: Arc<Task>,
    pub parents: Vec<Arc<Block>>,
}

/// What a task's end did to the host's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Go on normally.
    Continue,
    /// The failure was caught by a `rescue:`; the host is no longer failed.
    Rescued,
    /// The host failed but has `always:` tasks left to run.
    FailedInAlways,
    /// The host failed and has nothing left to run.
    Failed,
}

pub struct Cursor {
    stack: Vec<Frame>,
}

impl Cursor {
    pub fn new(nodes: Arc<Vec<TaskNode>>) -> Cursor {
        Cursor {
            stack: vec![Frame {
                src: Source::List { nodes, scope: None },
                idx: 0,
            }],
        }
    }

    pub fn is_done(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Stop this host (end_host, unreachable, a failure with nothing to catch it).
    pub fn clear(&mut self) {
        self.stack.clear();
    }

    /// The task this host runs next, descending into blocks as needed.
    pub fn peek(&mut self) -> Option<Next> {
        loop {
            self.unwind_finished();
            let top = self.stack.last()?;
            let node = top.nodes().get(top.idx)?.clone();
            match node {
                TaskNode::Task(task) => {
                    return Some(Next {
                        task,
                        parents: self.parents(),
                    })
                }
                TaskNode::Block(block) => self.stack.push(Frame {
                    src: Source::Block {
                        block,
                        section: Section::Main,
                        pending_failure: false,
                    },
                    idx: 0,
                }),
            }
        }
    }

    /// Where the host stands, for the linear strategy's lock-step choice
    /// (Ansible's `_get_next_task_lockstep`): the lowest goes first.
    pub fn rank(&mut self) -> Option<Vec<(u8, usize)>> {
        self.peek()?;
        // Ansible 2.19 steps through one list of all tasks, included ones
        // inserted right after their include: that order is the stack's
        // path compared frame by frame, each block's section before its
        // position, and a frame holding an include counted at the include
        // (its position already moved past it).
        let path = self
            .stack
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let section = match &f.src {
                    Source::Block { section, .. } => match section {
                        Section::Main => 0,
                        Section::Rescue => 1,
                        Section::Always => 2,
                    },
                    Source::List { .. } => 0,
                };
                let included_next = matches!(
                    self.stack.get(i + 1).map(|n| &n.src),
                    Some(Source::List { scope: Some(_), .. })
                );
                let idx = if included_next {
                    f.idx.saturating_sub(1)
                } else {
                    f.idx
                };
                (section, idx)
            })
            .collect();
        Some(path)
    }

    fn parents(&self) -> Vec<Arc<Block>> {
        self.stack
            .iter()
            .filter_map(|f| match &f.src {
                Source::Block { block, .. } => Some(block.clone()),
                Source::List { scope, .. } => scope.clone(),
            })
            .collect()
    }

    /// The include task ended well: its file runs next, still inside the
    /// blocks that hold the include (their keywords apply, their `always:`
    /// comes after it) even when the include was a block's last task.
    pub fn complete_with_include(
        &mut self,
        nodes: Arc<Vec<TaskNode>>,
        scope: Common,
        span: crate::error::Span,
    ) {
        if let Some(top) = self.stack.last_mut() {
            top.idx += 1;
        }
        self.push_include(nodes, scope, span);
    }

    /// Run an included file next, right after the include task, with the
    /// include's keywords (vars, environment …) as its scope.
    pub fn push_include(
        &mut self,
        nodes: Arc<Vec<TaskNode>>,
        scope: Common,
        span: crate::error::Span,
    ) {
        self.stack.push(Frame {
            src: Source::List {
                nodes,
                scope: Some(Arc::new(Block {
                    span,
                    common: scope,
                    block: Vec::new(),
                    rescue: Vec::new(),
                    always: Vec::new(),
                })),
            },
            idx: 0,
        });
    }

    /// Would a failure now be caught? True when an enclosing block is in its
    /// main section and has a `rescue:` (Ansible's `is_any_block_rescuing`,
    /// which decides between the `rescued` and `failed` counts).
    pub fn rescuing(&self) -> bool {
        self.stack.iter().any(|f| match &f.src {
            Source::Block { block, section, .. } => {
                *section == Section::Main && !block.rescue.is_empty()
            }
            Source::List { .. } => false,
        })
    }

    /// Report how the current task ended; moves to what comes next.
    /// Call after `peek` returned a task. For an include, call `complete`
    /// first and then `push_include`.
    pub fn complete(&mut self, failed: bool) -> Transition {
        if !failed {
            if let Some(top) = self.stack.last_mut() {
                top.idx += 1;
            }
            return self.unwind_finished();
        }
        self.raise()
    }

    /// Unwind to the nearest block that can handle a failure.
    fn raise(&mut self) -> Transition {
        while let Some(top) = self.stack.last_mut() {
            match &mut top.src {
                Source::List { .. } => {
                    self.stack.pop();
                }
                Source::Block {
                    block,
                    section,
                    pending_failure,
                } => match *section {
                    Section::Main if !block.rescue.is_empty() => {
                        *section = Section::Rescue;
                        top.idx = 0;
                        return Transition::Rescued;
                    }
                    Section::Main | Section::Rescue if !block.always.is_empty() => {
                        *section = Section::Always;
                        *pending_failure = true;
                        top.idx = 0;
                        return Transition::FailedInAlways;
                    }
                    _ => {
                        self.stack.pop();
                    }
                },
            }
        }
        Transition::Failed
    }

    /// Leave frames that have run out, entering `always:` sections on the way.
    fn unwind_finished(&mut self) -> Transition {
        let mut result = Transition::Continue;
        loop {
            let depth = self.stack.len();
            let Some(top) = self.stack.last_mut() else {
                break;
            };
            if top.idx < top.nodes().len() {
                break;
            }
            match &mut top.src {
                Source::List { .. } if depth == 1 => break,
                // An included file: its include task was already passed.
                Source::List { .. } => {
                    self.stack.pop();
                }
                Source::Block {
                    block,
                    section,
                    pending_failure,
                } => {
                    if matches!(*section, Section::Main | Section::Rescue)
                        && !block.always.is_empty()
                    {
                        *section = Section::Always;
                        top.idx = 0;
                        continue;
                    }
                    let reraise = *pending_failure;
                    self.stack.pop();
                    if reraise {
                        result = self.raise();
                        if result == Transition::Failed {
                            return result;
                        }
                    } else {
                        self.bump_parent();
                    }
                }
            }
        }
        result
    }

    fn bump_parent(&mut self) {
        if let Some(parent) = self.stack.last_mut() {
            parent.idx += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Span;
    use crate::playbook::{LoopControl, Vars};
    use std::path::PathBuf;

    fn span() -> Span {
        Span::new(Arc::new(PathBuf::from("t.yml")), 1, 1)
    }

    fn task(name: &str) -> TaskNode {
        TaskNode::Task(Arc::new(Task {
            span: span(),
            file: Arc::new(PathBuf::from("t.yml")),
            common: Common {
                name: Some(name.into()),
                ..Default::default()
            },
            action: "debug".into(),
            action_span: span(),
            args: Vars::new(),
            arg_layers: vec![],
            arg_spans: Default::default(),
            arg_key_spans: Default::default(),
            changed_when_spans: vec![],
            failed_when_spans: vec![],
            register: None,
            loop_: None,
            loop_control: LoopControl::default(),
            changed_when: None,
            failed_when: None,
            until: None,
            retries: None,
            delay: None,
            listen: vec![],
            role: None,
        }))
    }

    fn block(main: Vec<TaskNode>, rescue: Vec<TaskNode>, always: Vec<TaskNode>) -> TaskNode {
        TaskNode::Block(Arc::new(Block {
            span: span(),
            common: Common::default(),
            block: main,
            rescue,
            always,
        }))
    }

    /// Run the cursor, failing the named tasks; returns the names run and the end.
    fn walk(nodes: Vec<TaskNode>, fail: &[&str]) -> (Vec<String>, Transition) {
        let mut c = Cursor::new(Arc::new(nodes));
        let mut seen = Vec::new();
        let mut last = Transition::Continue;
        while let Some(n) = c.peek() {
            let name = n.task.display_name();
            let t = c.complete(fail.contains(&name.as_str()));
            seen.push(name);
            if t != Transition::Continue {
                last = t;
            }
            if t == Transition::Failed {
                break;
            }
        }
        (seen, last)
    }

    #[test]
    fn plain_and_nested_blocks() {
        let (seen, _) = walk(
            vec![
                task("a"),
                block(
                    vec![task("b"), block(vec![task("c")], vec![], vec![])],
                    vec![],
                    vec![],
                ),
                task("d"),
            ],
            &[],
        );
        assert_eq!(seen, ["a", "b", "c", "d"]);
    }

    #[test]
    fn rescue_then_always_then_continue() {
        let (seen, last) = walk(
            vec![
                block(
                    vec![task("b1"), task("b2")],
                    vec![task("r")],
                    vec![task("al")],
                ),
                task("after"),
            ],
            &["b1"],
        );
        assert_eq!(seen, ["b1", "r", "al", "after"]);
        assert_eq!(last, Transition::Rescued);
    }

    #[test]
    fn always_runs_then_failure_propagates() {
        let (seen, last) = walk(
            vec![
                block(vec![task("b1"), task("b2")], vec![], vec![task("al")]),
                task("after"),
            ],
            &["b1"],
        );
        assert_eq!(seen, ["b1", "al"]);
        assert_eq!(last, Transition::Failed);
    }

    #[test]
    fn inner_failure_caught_by_outer_rescue() {
        let inner = block(vec![task("i1")], vec![], vec![task("ia")]);
        let (seen, last) = walk(
            vec![
                block(vec![inner, task("o2")], vec![task("or")], vec![]),
                task("after"),
            ],
            &["i1"],
        );
        assert_eq!(seen, ["i1", "ia", "or", "after"]);
        assert_eq!(last, Transition::Rescued);
    }

    #[test]
    fn failure_in_rescue_fails_after_always() {
        let (seen, last) = walk(
            vec![
                block(vec![task("b")], vec![task("r")], vec![task("al")]),
                task("after"),
            ],
            &["b", "r"],
        );
        assert_eq!(seen, ["b", "r", "al"]);
        assert_eq!(last, Transition::Failed);
    }

    #[test]
    fn includes_run_in_place() {
        let mut c = Cursor::new(Arc::new(vec![task("inc"), task("after")]));
        let n = c.peek().unwrap();
        assert_eq!(n.task.display_name(), "inc");
        c.complete(false);
        c.push_include(
            Arc::new(vec![task("x1"), task("x2")]),
            Common::default(),
            span(),
        );
        let mut seen = Vec::new();
        while let Some(n) = c.peek() {
            seen.push(n.task.display_name());
            assert_eq!(n.parents.len(), usize::from(seen.len() <= 2));
            c.complete(false);
        }
        assert_eq!(seen, ["x1", "x2", "after"]);
    }
}
