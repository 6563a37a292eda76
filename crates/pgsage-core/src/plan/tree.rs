//! Walking the tree: node paths and pre-order iteration, without recursion.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::model::{Plan, PlanNode};

/// Where a node is in its plan: the root is `0`, its second child `0.1`, that node's
/// first child `0.1.0`. Children are numbered in EXPLAIN's order, InitPlans and
/// SubPlans included.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct NodePath(Vec<u32>);

impl NodePath {
    /// The root's path, `0`.
    pub fn root() -> Self {
        NodePath(vec![0])
    }

    /// The path of this node's `index`-th child.
    pub fn child(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(u32::try_from(index).unwrap_or(u32::MAX));
        NodePath(steps)
    }

    /// The steps, starting with the root's `0`.
    pub fn steps(&self) -> &[u32] {
        &self.0
    }

    /// Depth in the tree: 0 for the root.
    pub fn depth(&self) -> usize {
        self.0.len().saturating_sub(1)
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}

impl From<NodePath> for String {
    fn from(p: NodePath) -> String {
        p.to_string()
    }
}

/// Text that is not a [`NodePath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad node path `{path}`{}", if *.from_root { "" } else { ": it must start at the root, 0" })]
pub struct NodePathError {
    /// The text.
    pub path: String,
    /// Whether it was dot-separated numbers starting at 0 (the one other way to fail).
    from_root: bool,
}

impl FromStr for NodePath {
    type Err = NodePathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |from_root| NodePathError {
            path: s.to_owned(),
            from_root,
        };
        let steps = s
            .split('.')
            .map(|step| step.parse::<u32>().map_err(|_| bad(true)))
            .collect::<Result<Vec<_>, _>>()?;
        if steps.first() != Some(&0) {
            return Err(bad(false));
        }
        Ok(NodePath(steps))
    }
}

impl TryFrom<String> for NodePath {
    type Error = NodePathError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A node met while walking a plan: the node, its path and its parent's position in
/// the walk.
#[derive(Debug, Clone)]
pub struct NodeVisit<'a> {
    /// The node.
    pub node: &'a PlanNode,
    /// Its path (`0.1.0`).
    pub path: NodePath,
    /// Position of its parent in the same pre-order walk (`None` for the root).
    pub parent: Option<usize>,
}

/// Pre-order iterator over a plan's nodes (parent before children, children in
/// EXPLAIN's order), with an explicit stack.
#[derive(Debug)]
pub struct PreOrder<'a> {
    stack: Vec<(&'a PlanNode, NodePath, Option<usize>)>,
    emitted: usize,
}

impl<'a> Iterator for PreOrder<'a> {
    type Item = NodeVisit<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let (node, path, parent) = self.stack.pop()?;
        let me = self.emitted;
        self.emitted += 1;
        for (i, child) in node.children.iter().enumerate().rev() {
            self.stack.push((child, path.child(i), Some(me)));
        }
        Some(NodeVisit { node, path, parent })
    }
}

impl PlanNode {
    /// This node and its descendants in pre-order; paths start at `0` for this node.
    pub fn walk(&self) -> PreOrder<'_> {
        PreOrder {
            stack: vec![(self, NodePath::root(), None)],
            emitted: 0,
        }
    }

    /// The node at `path` below this one (this node being `0`).
    pub fn at(&self, path: &NodePath) -> Option<&PlanNode> {
        let (first, rest) = path.steps().split_first()?;
        if *first != 0 {
            return None;
        }
        let mut node = self;
        for step in rest {
            node = node.children.get(usize::try_from(*step).ok()?)?;
        }
        Some(node)
    }

    /// Number of nodes in this subtree, this one included.
    pub fn node_count(&self) -> usize {
        self.walk().count()
    }
}

impl Plan {
    /// Every node, in pre-order, with its path.
    pub fn nodes(&self) -> PreOrder<'_> {
        self.root.walk()
    }

    /// The node at `path` (`0` is the root).
    pub fn node_at(&self, path: &NodePath) -> Option<&PlanNode> {
        self.root.at(path)
    }
}

#[cfg(test)]
mod tests {
    use super::NodePath;

    #[test]
    fn bad_node_paths_say_why() {
        let path = |s: &str| s.parse::<NodePath>().map_err(|e| e.to_string());
        assert_eq!(path("0.2").map(|p| p.to_string()), Ok("0.2".to_owned()));
        assert_eq!(path("0.x"), Err("bad node path `0.x`".to_owned()));
        assert_eq!(
            path("1.2"),
            Err("bad node path `1.2`: it must start at the root, 0".to_owned())
        );
    }
}
