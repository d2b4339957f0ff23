//! [`Graph`]: models that are not a chain, built like Keras' functional API.
//!
//! A graph is a list of nodes in the order they were added, each one the output of an
//! operation on earlier nodes: a model input, a [`Layer`] on one float node, a
//! [`Model<F, Indices>`] (an embedding) on an integer node, a [`MultiInputLayer`]
//! (attention) on several float nodes, or a wiring operation (`add`, `concat`,
//! `positions`). The order is a topological order, so `forward` runs the nodes first
//! to last and `backward` last to first, accumulating each node's output gradient
//! from the nodes that consumed it. Nobody writes the backward pass of the wiring.
//!
//! Design (see also the crate's design notes in [`model`](crate::model)):
//!
//! * Every activation cache stays in the layer that produced it (as in a
//!   [`Sequential`](crate::model::Sequential)); the graph owns one gradient buffer per
//!   node and the outputs of its own wiring operations, all reused: after the first
//!   batch a training step allocates nothing.
//! * Inputs are typed: the graph is a [`Model<F, I>`] for the input kind `I` its
//!   inputs were declared with (`input()` for a float array, `input_ids()` for `usize`
//!   ids), checked when the graph is built. Ids never become floats.
//! * Parameters and buffers are named `"<node name>.<layer's name>"` (`"tok.weight"`,
//!   `"blocks.layers.0.self_attn.in_proj_weight"`), so PyTorch state_dicts map one to
//!   one; ids are renumbered `0..n` over the nodes in order.
//! * Gradients flow only where needed: a node whose inputs depend on no parameter
//!   gets `Model::backward` (parameter gradients only), not the input gradient.
//! * A module appears in one node only (no weight tying across nodes yet).
//!
//! # Example: a residual block, and a model with two inputs
//!
//! ```
//! use ndarray::Array2;
//! use ndtrain::model::{Floats, Graph};
//! use ndtrain::prelude::*;
//!
//! let mut rng = ndtrain::seeded_rng(0);
//! // y = head(h + relu(fc(h))), h = stem(x): a residual connection.
//! let mut g = Graph::<f64, Floats>::builder();
//! let x = g.input();
//! let h = g.layer("stem", Linear::new(4, 8, &mut rng)?, x)?;
//! let f = g.layer("fc", Linear::new(8, 8, &mut rng)?, h)?;
//! let f = g.layer("act", Relu::new(), f)?;
//! let h = g.add(h, f)?;
//! let out = g.layer("head", Linear::new(8, 3, &mut rng)?, h)?;
//! let mut model = g.build(out)?;
//! assert_eq!(model.parameters()[0].0, "stem.weight");
//! let x = Array2::from_shape_fn((5, 4), |(i, j)| (i as f64 - j as f64) * 0.3);
//! assert_eq!(model.forward(x.view().into_dyn(), Mode::Train)?.shape(), &[5, 3]);
//! assert!(gradcheck(&mut model, &x, &GradcheckOptions::default())?.passed(1e-6));
//!
//! // Two inputs, each through its own layer, joined: y = out([a(x1), b(x2)]).
//! let mut g = Graph::<f64, (Floats, Floats)>::builder();
//! let (x1, x2) = (g.input(), g.input());
//! let a = g.layer("a", Linear::new(3, 4, &mut rng)?, x1)?;
//! let b = g.layer("b", Linear::new(2, 4, &mut rng)?, x2)?;
//! let ab = g.concat(&[a, b], -1)?;
//! let out = g.layer("out", Linear::new(8, 1, &mut rng)?, ab)?;
//! let mut model = g.build(out)?;
//! let (x1, x2) = (Array2::<f64>::ones((6, 3)), Array2::<f64>::zeros((6, 2)));
//! assert_eq!(model.forward((x1.view().into_dyn(), x2.view().into_dyn()), Mode::Eval)?.shape(), &[6, 1]);
//! # Ok::<(), ndtrain::Error>(())
//! ```

use std::fmt;

use ndarray::{ArrayViewD, Axis};

use crate::error::{Error, Result};
use crate::model::input::{Input, Part, PartKind};
use crate::model::layers::{Pass, copy_into, slice_mut};
use crate::model::{BufferVisitor, Indices, Layer, Mode, Model, Module, MultiInputLayer, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// A float node of a [`GraphBuilder`]: the output of an input or an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node(usize);

/// An integer (`usize` ids) node of a [`GraphBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdsNode(usize);

enum Op<F: Float> {
    Input {
        index: usize,
    },
    Layer {
        module: Box<dyn Layer<F> + Send>,
        input: usize,
    },
    Ids {
        module: Box<dyn Model<F, Indices> + Send>,
        input: usize,
    },
    Multi {
        module: Box<dyn MultiInputLayer<F> + Send>,
        inputs: Vec<usize>,
        needs: Vec<bool>,
    },
    /// `a + b`; the shapes of the last forward (for the broadcast gradient).
    Add {
        a: usize,
        b: usize,
        out: Buffer<F>,
        a_shape: Vec<usize>,
        b_shape: Vec<usize>,
    },
    /// `axis` as given (negative counts from the end), resolved at forward time along
    /// with each input's length on it.
    Concat {
        inputs: Vec<usize>,
        axis: isize,
        resolved: usize,
        lens: Vec<usize>,
        shape: Vec<usize>,
        out: Buffer<F>,
    },
    Positions {
        input: usize,
        out: Buffer<usize>,
    },
}

impl<F: Float> Op<F> {
    fn inputs(&self) -> Vec<usize> {
        match self {
            Op::Input { .. } => vec![],
            Op::Layer { input, .. } | Op::Ids { input, .. } | Op::Positions { input, .. } => vec![*input],
            Op::Multi { inputs, .. } | Op::Concat { inputs, .. } => inputs.clone(),
            Op::Add { a, b, .. } => vec![*a, *b],
        }
    }

    fn module(&mut self) -> Option<&mut dyn ModuleDyn<F>> {
        match self {
            Op::Layer { module, .. } => Some(module),
            Op::Ids { module, .. } => Some(module),
            Op::Multi { module, .. } => Some(module),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Layer { .. } => "layer",
            Op::Ids { .. } => "embed",
            Op::Multi { .. } => "multi",
            Op::Add { .. } => "add",
            Op::Concat { .. } => "concat",
            Op::Positions { .. } => "positions",
        }
    }
}

/// The parameter walk of a node's module, whatever its trait.
trait ModuleDyn<F: Float> {
    fn params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()>;
    fn bufs(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()>;
}

impl<F: Float, M: Module<F> + ?Sized> ModuleDyn<F> for Box<M> {
    fn params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        self.visit_params(f)
    }
    fn bufs(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        self.visit_buffers(f)
    }
}

struct NodeData<F: Float> {
    op: Op<F>,
    name: String,
    /// Whether the node's output is integer ids.
    ids: bool,
    param_names: Vec<String>,
    buffer_names: Vec<String>,
    param_offset: usize,
}

/// Builds a [`Graph`]: declare inputs, apply layers and wiring operations, then
/// [`build`](GraphBuilder::build) with the output node. Each method returns the new
/// node, or `Err` for a node of another builder or a repeated name.
pub struct GraphBuilder<F: Float, I: Input<F>> {
    nodes: Vec<NodeData<F>>,
    n_inputs: usize,
    _input: std::marker::PhantomData<fn() -> I>,
}

/// A model whose layers form a directed acyclic graph (residual connections, several
/// inputs, token ids and positions); see the [module docs](self).
///
/// Built with [`Graph::builder`]. A `Graph<F, I>` is a [`Model<F, I>`]; with one float
/// input (`I = Floats`) it is also a [`Layer`] and nests in a
/// [`Sequential`](crate::model::Sequential) or another graph.
///
/// # Errors
/// `forward`: any error of a node's operation (shapes), in the order the nodes run;
/// after a failed forward, `backward` is refused until the next successful one.
/// `backward`: [`Error::InvalidInput`] without a recording forward,
/// [`Error::ShapeMismatch`] for a `grad_out` of the wrong shape.
pub struct Graph<F: Float, I: Input<F>> {
    nodes: Vec<NodeData<F>>,
    /// Gradient of each node's output, and whether it has been written this pass.
    grads: Vec<Buffer<F>>,
    grad_set: Vec<bool>,
    /// Whether node `n` needs its output gradient: some parameter depends on it
    /// (for `backward`), or a parameter or a float input (for `backward_input`).
    needs_params: Vec<bool>,
    needs_inputs: Vec<bool>,
    /// The float-input node of each input (for `backward_input`), `None` for ids.
    input_nodes: Vec<usize>,
    out_shape: Vec<usize>,
    pass: Pass,
    /// Storage of the per-forward table of node outputs (reused; see `forward`).
    values: Vec<Value<'static, F>>,
    views: Vec<ArrayViewD<'static, F>>,
    _input: std::marker::PhantomData<fn() -> I>,
}

/// A node's output during one forward pass.
#[derive(Clone)]
enum Value<'a, F> {
    Floats(ArrayViewD<'a, F>),
    Ids(ArrayViewD<'a, usize>),
}

/// An empty vector of another lifetime, reusing `v`'s allocation (the in-place
/// `collect` of an empty vector into a type of the same layout).
fn relifetime<A, B>(mut v: Vec<A>) -> Vec<B> {
    v.clear();
    v.into_iter().map(|_| unreachable!("the vector is empty")).collect()
}

fn bad_node(op: &'static str, what: &str) -> Error {
    Error::invalid_input(op, format!("{what} is not a node of this graph builder"))
}

impl<F: Float, I: Input<F>> Graph<F, I> {
    /// A builder for a graph taking inputs of kind `I`.
    pub fn builder() -> GraphBuilder<F, I> {
        GraphBuilder { nodes: Vec::new(), n_inputs: 0, _input: std::marker::PhantomData }
    }

    /// The names of the nodes in order, with their operation (`"tok: embed"`).
    pub fn summary(&self) -> Vec<String> {
        self.nodes.iter().map(|n| format!("{}: {}", n.name, n.op.kind())).collect()
    }
}

impl<F: Float, I: Input<F>> GraphBuilder<F, I> {
    fn push(&mut self, name: &str, op: Op<F>, ids: bool) -> Result<usize> {
        const OP: &str = "GraphBuilder";
        if !name.is_empty() && self.nodes.iter().any(|n| n.name == name) {
            return Err(Error::invalid_input(OP, format!("node name {name:?} is used twice")));
        }
        if name.contains('.') {
            return Err(Error::invalid_input(OP, format!("node name {name:?} contains a '.'")));
        }
        let mut node = NodeData {
            op,
            name: name.to_string(),
            ids,
            param_names: Vec::new(),
            buffer_names: Vec::new(),
            param_offset: 0,
        };
        let prefix = |n: &str| if name.is_empty() { n.to_string() } else { format!("{name}.{n}") };
        if let Some(m) = node.op.module() {
            let mut names = Vec::new();
            m.params(&mut |p, _, _| {
                names.push(prefix(p.name));
                Ok(())
            })?;
            let mut bufs = Vec::new();
            m.bufs(&mut |n, _| {
                bufs.push(prefix(n));
                Ok(())
            })?;
            node.param_names = names;
            node.buffer_names = bufs;
        }
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn float(&self, n: Node, op: &'static str) -> Result<usize> {
        match self.nodes.get(n.0) {
            Some(d) if !d.ids => Ok(n.0),
            _ => Err(bad_node(op, "a float node")),
        }
    }

    fn index(&self, n: IdsNode, op: &'static str) -> Result<usize> {
        match self.nodes.get(n.0) {
            Some(d) if d.ids => Ok(n.0),
            _ => Err(bad_node(op, "an ids node")),
        }
    }

    /// Declares the next input of the model as a float array.
    pub fn input(&mut self) -> Node {
        let index = self.n_inputs;
        self.n_inputs += 1;
        self.nodes.push(NodeData {
            op: Op::Input { index },
            name: format!("input{index}"),
            ids: false,
            param_names: Vec::new(),
            buffer_names: Vec::new(),
            param_offset: 0,
        });
        Node(self.nodes.len() - 1)
    }

    /// Declares the next input of the model as an array of `usize` ids.
    pub fn input_ids(&mut self) -> IdsNode {
        let index = self.n_inputs;
        self.n_inputs += 1;
        self.nodes.push(NodeData {
            op: Op::Input { index },
            name: format!("input{index}"),
            ids: true,
            param_names: Vec::new(),
            buffer_names: Vec::new(),
            param_offset: 0,
        });
        IdsNode(self.nodes.len() - 1)
    }

    /// `layer(x)`; its parameters are named `"<name>.<parameter>"` (no prefix for an
    /// empty name).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a node of another builder, a name used twice or a
    /// name containing `.`.
    pub fn layer<L: Layer<F> + Send + 'static>(&mut self, name: &str, layer: L, x: Node) -> Result<Node> {
        self.layer_boxed(name, Box::new(layer), x)
    }

    /// [`layer`](GraphBuilder::layer) with a boxed layer.
    ///
    /// # Errors
    /// As [`layer`](GraphBuilder::layer).
    pub fn layer_boxed(&mut self, name: &str, layer: Box<dyn Layer<F> + Send>, x: Node) -> Result<Node> {
        let input = self.float(x, "GraphBuilder::layer")?;
        self.push(name, Op::Layer { module: layer, input }, false).map(Node)
    }

    /// `model(ids)` for a model taking integer ids, such as an
    /// [`Embedding`](crate::model::Embedding).
    ///
    /// # Errors
    /// As [`layer`](GraphBuilder::layer).
    pub fn embed<M: Model<F, Indices> + Send + 'static>(
        &mut self,
        name: &str,
        model: M,
        ids: IdsNode,
    ) -> Result<Node> {
        let input = self.index(ids, "GraphBuilder::embed")?;
        self.push(name, Op::Ids { module: Box::new(model), input }, false).map(Node)
    }

    /// `module(inputs[0], inputs[1], ...)` for a module with several float inputs
    /// (attention's query, key and value).
    ///
    /// # Errors
    /// As [`layer`](GraphBuilder::layer), and [`Error::LengthMismatch`] when the number
    /// of inputs is not the module's.
    pub fn multi<M: MultiInputLayer<F> + Send + 'static>(
        &mut self,
        name: &str,
        module: M,
        inputs: &[Node],
    ) -> Result<Node> {
        const OP: &str = "GraphBuilder::multi";
        if inputs.len() != module.num_inputs() {
            return Err(Error::LengthMismatch {
                op: OP,
                what: "inputs of the module",
                expected: module.num_inputs(),
                got: inputs.len(),
            });
        }
        let inputs = inputs.iter().map(|&n| self.float(n, OP)).collect::<Result<Vec<_>>>()?;
        let needs = vec![false; inputs.len()];
        self.push(name, Op::Multi { module: Box::new(module), inputs, needs }, false).map(Node)
    }

    /// `a + b`. The shapes must be equal, or the shape of one must end the shape of the
    /// other, which is then repeated over the leading axes (a `[T, D]` position table
    /// added to `[N, T, D]` token vectors); its gradient sums over them.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a node of another builder.
    pub fn add(&mut self, a: Node, b: Node) -> Result<Node> {
        let (a, b) = (self.float(a, "GraphBuilder::add")?, self.float(b, "GraphBuilder::add")?);
        self.push("", Op::Add { a, b, out: Buffer::new(), a_shape: Vec::new(), b_shape: Vec::new() }, false)
            .map(Node)
    }

    /// The inputs joined along `axis` (negative counts from the end, `-1` the last):
    /// `torch.cat(inputs, dim=axis)`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for no input or a node of another builder.
    pub fn concat(&mut self, inputs: &[Node], axis: isize) -> Result<Node> {
        const OP: &str = "GraphBuilder::concat";
        if inputs.is_empty() {
            return Err(Error::invalid_input(OP, "no input to concatenate"));
        }
        let inputs = inputs.iter().map(|&n| self.float(n, OP)).collect::<Result<Vec<_>>>()?;
        let lens = vec![0; inputs.len()];
        let op = Op::Concat { inputs, axis, resolved: 0, lens, shape: Vec::new(), out: Buffer::new() };
        self.push("", op, false).map(Node)
    }

    /// The positions `0, 1, …, T−1` of a `[N, T, …]` id array (`torch.arange(T)`), as
    /// ids of shape `[T]`: feed them to a position [`Embedding`](crate::model::Embedding)
    /// and [`add`](GraphBuilder::add) the result to the token embeddings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a node of another builder.
    pub fn positions(&mut self, ids: IdsNode) -> Result<IdsNode> {
        let input = self.index(ids, "GraphBuilder::positions")?;
        self.push("", Op::Positions { input, out: Buffer::new() }, true).map(IdsNode)
    }

    /// The model from the inputs to `output`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the declared inputs do not match the input kind `I`
    /// (number and kinds, in order), when `output` is an input or not the last node
    /// added, or when a node does not reach `output` (a dead branch).
    pub fn build(self, output: Node) -> Result<Graph<F, I>> {
        const OP: &str = "GraphBuilder::build";
        let n = self.nodes.len();
        let out = self.float(output, OP)?;
        if out + 1 != n {
            return Err(Error::invalid_input(
                OP,
                format!("the output must be the last node added (node {out} of {n})"),
            ));
        }
        let mut input_nodes = vec![usize::MAX; self.n_inputs];
        for (i, node) in self.nodes.iter().enumerate() {
            if let Op::Input { index } = node.op {
                input_nodes[index] = i;
            }
        }
        if I::num_parts() != self.n_inputs {
            return Err(Error::invalid_input(
                OP,
                format!(
                    "{} inputs declared, the model's input kind has {} parts",
                    self.n_inputs,
                    I::num_parts()
                ),
            ));
        }
        for (k, &node) in input_nodes.iter().enumerate() {
            let declared = if self.nodes[node].ids { PartKind::Indices } else { PartKind::Floats };
            if I::part_kind(k) != Some(declared) {
                return Err(Error::invalid_input(
                    OP,
                    format!(
                        "input {k} declared as {declared:?}, the model's input kind says {:?}",
                        I::part_kind(k)
                    ),
                ));
            }
        }
        if matches!(self.nodes[out].op, Op::Input { .. }) {
            return Err(Error::invalid_input(OP, "the output is an input (nothing to compute)"));
        }
        // Every node must reach the output: walk back from it.
        let mut reaches = vec![false; n];
        reaches[out] = true;
        for i in (0..n).rev() {
            if reaches[i] {
                for j in self.nodes[i].op.inputs() {
                    reaches[j] = true;
                }
            }
        }
        if let Some(dead) = reaches.iter().position(|r| !r) {
            let name = &self.nodes[dead].name;
            return Err(Error::invalid_input(OP, format!("node {dead} ({name}) does not reach the output")));
        }
        // needs[i]: a parameter (or, for `needs_inputs`, a float input) lies upstream of
        // node i's output, so the gradient must flow into it.
        let mut needs_params = vec![false; n];
        let mut needs_inputs = vec![false; n];
        let mut nodes = self.nodes;
        let mut offset = 0;
        for i in 0..n {
            let own = !nodes[i].param_names.is_empty();
            let float_input = matches!(nodes[i].op, Op::Input { .. }) && !nodes[i].ids;
            let ins = nodes[i].op.inputs();
            needs_params[i] = own || ins.iter().any(|&j| needs_params[j]);
            needs_inputs[i] = own || float_input || ins.iter().any(|&j| needs_inputs[j]);
            nodes[i].param_offset = offset;
            offset += nodes[i].param_names.len();
        }
        let input_nodes = input_nodes.into_iter().filter(|&i| !nodes[i].ids).collect();
        Ok(Graph {
            grads: (0..n).map(|_| Buffer::new()).collect(),
            grad_set: vec![false; n],
            needs_params,
            needs_inputs,
            input_nodes,
            nodes,
            out_shape: Vec::new(),
            pass: Pass::None,
            values: Vec::new(),
            views: Vec::new(),
            _input: std::marker::PhantomData,
        })
    }
}

/// `dst (+)= src`: the first contribution to a node's gradient copies, later ones add.
fn accumulate<F: Float>(dst: &mut Buffer<F>, set: &mut bool, src: &ArrayViewD<'_, F>) {
    if !*set {
        copy_into(src, dst);
        *set = true;
    } else {
        let d = slice_mut(dst.view_mut());
        match src.as_slice() {
            Some(s) => d.iter_mut().zip(s).for_each(|(d, &s)| *d += s),
            None => d.iter_mut().zip(src.iter()).for_each(|(d, &s)| *d += s),
        }
    }
}

/// `dst (+)= src` summed over the leading axes of `src` that `dst_shape` lacks (the
/// broadcast operand of an `add`).
fn accumulate_reduced<F: Float>(
    dst: &mut Buffer<F>,
    set: &mut bool,
    src: &ArrayViewD<'_, F>,
    dst_shape: &[usize],
) {
    let inner: usize = dst_shape.iter().product();
    if !*set {
        slice_mut(dst.reshape(dst_shape)).fill(F::zero());
        *set = true;
    }
    let d = slice_mut(dst.view_mut());
    if inner == 0 {
        return;
    }
    match src.as_slice() {
        Some(s) => {
            for chunk in s.chunks_exact(inner) {
                d.iter_mut().zip(chunk).for_each(|(d, &s)| *d += s);
            }
        }
        None => {
            for (k, &s) in src.iter().enumerate() {
                d[k % inner] += s;
            }
        }
    }
}

/// Which operand of `a + b` is broadcast: the one whose shape ends the other's.
fn add_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<bool> {
    if a.len() >= b.len() && a[a.len() - b.len()..] == *b {
        Ok(false) // b broadcast (or equal)
    } else if b.len() > a.len() && b[b.len() - a.len()..] == *a {
        Ok(true) // a broadcast
    } else {
        Err(Error::ShapeMismatch { op, expected: a.to_vec(), got: b.to_vec() })
    }
}

fn resolve_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let ax = if axis < 0 { ndim.checked_sub(axis.unsigned_abs()) } else { Some(axis as usize) };
    match ax {
        Some(a) if a < ndim => Ok(a),
        _ => {
            Err(Error::invalid_input(op, format!("axis {axis} out of range for inputs of {ndim} dimensions")))
        }
    }
}

impl<'a, F: Clone> Value<'a, F> {
    fn floats(&self, op: &'static str) -> Result<ArrayViewD<'a, F>> {
        match self {
            Value::Floats(v) => Ok(v.clone()),
            Value::Ids(_) => Err(Error::invalid_input(op, "a float node holds ids")),
        }
    }

    fn ids(&self, op: &'static str) -> Result<ArrayViewD<'a, usize>> {
        match self {
            Value::Ids(v) => Ok(v.clone()),
            Value::Floats(_) => Err(Error::invalid_input(op, "an ids node holds floats")),
        }
    }
}

/// `out = a + b`, `b` repeated over the leading axes of `a` (`b`'s shape ends `a`'s).
fn add_broadcast<F: Float>(a: &ArrayViewD<'_, F>, b: &ArrayViewD<'_, F>, out: &mut Buffer<F>) {
    copy_into(a, out);
    let o = slice_mut(out.view_mut());
    let inner = b.len();
    if inner == 0 {
        return;
    }
    match b.as_slice() {
        Some(bs) => o.chunks_exact_mut(inner).for_each(|c| c.iter_mut().zip(bs).for_each(|(o, &b)| *o += b)),
        None => {
            o.chunks_exact_mut(inner).for_each(|c| c.iter_mut().zip(b.iter()).for_each(|(o, &b)| *o += b))
        }
    }
}

impl<F: Float, I: Input<F>> Graph<F, I> {
    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != self.out_shape.as_slice() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out_shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// Runs every node in order; returns the last node's output.
    fn forward_impl<'s>(&'s mut self, x: &I::View<'_>, mode: Mode) -> Result<ArrayViewD<'s, F>> {
        const OP: &str = "Graph::forward";
        self.pass = Pass::None;
        let Graph { nodes, values, views, out_shape, pass, .. } = self;
        let n = nodes.len();
        let mut vals: Vec<Value<'_, F>> = relifetime(std::mem::take(values));
        let mut result = None;
        for (i, node) in nodes.iter_mut().enumerate() {
            let last = i + 1 == n;
            let v: ArrayViewD<'s, F> = match &mut node.op {
                Op::Input { index } => {
                    vals.push(match I::part(x, *index) {
                        Some(Part::Floats(a)) => Value::Floats(a),
                        Some(Part::Indices(a)) => Value::Ids(a),
                        None => {
                            return Err(Error::invalid_input(OP, format!("the input has no part {index}")));
                        }
                    });
                    continue;
                }
                Op::Positions { input, out } => {
                    let ids = vals[*input].ids(OP)?;
                    if ids.ndim() < 2 {
                        return Err(Error::ShapeMismatch {
                            op: "Graph::positions",
                            expected: vec![0, 0],
                            got: ids.shape().to_vec(),
                        });
                    }
                    let t = ids.shape()[1];
                    slice_mut(out.reshape(&[t])).iter_mut().enumerate().for_each(|(k, p)| *p = k);
                    vals.push(Value::Ids(out.view()));
                    continue;
                }
                Op::Layer { module, input } => module.forward(vals[*input].floats(OP)?, mode)?,
                Op::Ids { module, input } => module.forward(vals[*input].ids(OP)?, mode)?,
                Op::Multi { module, inputs, .. } => {
                    let mut vs: Vec<ArrayViewD<'_, F>> = relifetime(std::mem::take(views));
                    for &j in inputs.iter() {
                        vs.push(vals[j].floats(OP)?);
                    }
                    let y = module.forward_multi(&vs, mode)?;
                    *views = relifetime(vs);
                    y
                }
                Op::Add { a, b, out, a_shape, b_shape } => {
                    let (va, vb) = (vals[*a].floats(OP)?, vals[*b].floats(OP)?);
                    let b_is_small = !add_shapes("Graph::add", va.shape(), vb.shape())?;
                    if b_is_small {
                        add_broadcast(&va, &vb, out)
                    } else {
                        add_broadcast(&vb, &va, out)
                    }
                    a_shape.clear();
                    a_shape.extend_from_slice(va.shape());
                    b_shape.clear();
                    b_shape.extend_from_slice(vb.shape());
                    out.view()
                }
                Op::Concat { inputs, axis, resolved, lens, shape, out } => {
                    let first = vals[inputs[0]].floats(OP)?;
                    let ax = resolve_axis("Graph::concat", *axis, first.ndim())?;
                    shape.clear();
                    shape.extend_from_slice(first.shape());
                    shape[ax] = 0;
                    for (k, &j) in inputs.iter().enumerate() {
                        let v = vals[j].floats(OP)?;
                        let same = v.ndim() == first.ndim()
                            && v.shape()
                                .iter()
                                .zip(first.shape())
                                .enumerate()
                                .all(|(d, (a, b))| d == ax || a == b);
                        if !same {
                            return Err(Error::ShapeMismatch {
                                op: "Graph::concat",
                                expected: first.shape().to_vec(),
                                got: v.shape().to_vec(),
                            });
                        }
                        lens[k] = v.shape()[ax];
                        shape[ax] += lens[k];
                    }
                    let mut o = out.reshape(shape);
                    let mut start = 0;
                    for (k, &j) in inputs.iter().enumerate() {
                        let v = vals[j].floats(OP)?;
                        o.slice_axis_mut(Axis(ax), (start..start + lens[k]).into()).assign(&v);
                        start += lens[k];
                    }
                    *resolved = ax;
                    out.view()
                }
            };
            if last {
                result = Some(v.clone());
            }
            vals.push(Value::Floats(v));
        }
        *values = relifetime(vals);
        let out = result.ok_or_else(|| Error::invalid_input(OP, "the graph has no output node"))?;
        out_shape.clear();
        out_shape.extend_from_slice(out.shape());
        *pass = Pass::of(mode);
        Ok(out)
    }

    /// Back-propagates from the output through every node that needs a gradient
    /// (`inputs`: also into the float inputs).
    fn backward_impl(&mut self, grad_out: ArrayViewD<'_, F>, inputs: bool) -> Result<()> {
        let n = self.nodes.len();
        self.grad_set.iter_mut().for_each(|s| *s = false);
        let needs = if inputs { &self.needs_inputs } else { &self.needs_params };
        accumulate(&mut self.grads[n - 1], &mut self.grad_set[n - 1], &grad_out);
        for i in (0..n).rev() {
            if !needs[i] {
                continue;
            }
            let (before, rest) = self.grads.split_at_mut(i);
            let (set_before, set_rest) = self.grad_set.split_at_mut(i);
            if !set_rest[0] {
                continue; // no consumer needed this node's gradient
            }
            let g = rest[0].view();
            match &mut self.nodes[i].op {
                Op::Input { .. } | Op::Positions { .. } => {}
                Op::Layer { module, input } => {
                    if needs[*input] {
                        let gi = module.backward_input(g)?;
                        accumulate(&mut before[*input], &mut set_before[*input], &gi);
                    } else {
                        module.backward(g)?;
                    }
                }
                Op::Ids { module, .. } => module.backward(g)?,
                Op::Multi { module, inputs, needs: want } => {
                    for (w, &j) in want.iter_mut().zip(inputs.iter()) {
                        *w = needs[j];
                    }
                    module.backward_multi(g, want)?;
                    for (k, &j) in inputs.iter().enumerate() {
                        if needs[j] {
                            let gi = module.input_grad(k).ok_or_else(|| {
                                Error::invalid_input(
                                    "Graph::backward",
                                    format!("a multi-input module computed no gradient for its input {k}"),
                                )
                            })?;
                            accumulate(&mut before[j], &mut set_before[j], &gi);
                        }
                    }
                }
                Op::Add { a, b, a_shape, b_shape, .. } => {
                    for (j, shape) in [(*a, &*a_shape), (*b, &*b_shape)] {
                        if !needs[j] {
                            continue;
                        }
                        if shape.as_slice() == g.shape() {
                            accumulate(&mut before[j], &mut set_before[j], &g);
                        } else {
                            accumulate_reduced(&mut before[j], &mut set_before[j], &g, shape);
                        }
                    }
                }
                Op::Concat { inputs, resolved, lens, .. } => {
                    let mut start = 0;
                    for (k, &j) in inputs.iter().enumerate() {
                        if needs[j] {
                            let part = g.slice_axis(Axis(*resolved), (start..start + lens[k]).into());
                            accumulate(&mut before[j], &mut set_before[j], &part);
                        }
                        start += lens[k];
                    }
                }
            }
        }
        Ok(())
    }
}

impl<F: Float, I: Input<F>> Module<F> for Graph<F, I> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        for node in &mut self.nodes {
            let (names, offset) = (&node.param_names, node.param_offset);
            if let Some(m) = node.op.module() {
                m.params(&mut |p, v, g| {
                    let Some(name) = names.get(p.id) else {
                        return Err(Error::invalid_input(
                            "Graph::visit_params",
                            format!(
                                "a module visited parameter id {} but had {} when added",
                                p.id,
                                names.len()
                            ),
                        ));
                    };
                    f(Param::new(offset + p.id, name), v, g)
                })?;
            }
        }
        Ok(())
    }

    fn visit_buffers(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        for node in &mut self.nodes {
            let names = &node.buffer_names;
            if let Some(m) = node.op.module() {
                let mut k = 0;
                m.bufs(&mut |_, b| {
                    let Some(name) = names.get(k) else {
                        return Err(Error::invalid_input(
                            "Graph::visit_buffers",
                            "a module visited more buffers than when added",
                        ));
                    };
                    k += 1;
                    f(name, b)
                })?;
            }
        }
        Ok(())
    }
}

impl<F: Float, I: Input<F>> Model<F, I> for Graph<F, I> {
    fn forward(&mut self, x: I::View<'_>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.forward_impl(&x, mode)
    }

    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.check_backward("Graph::backward", &grad_out)?;
        self.backward_impl(grad_out, false)
    }
}

impl<F: Float> Layer<F> for Graph<F, crate::model::Floats> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.check_backward("Graph::backward_input", &grad_out)?;
        self.backward_impl(grad_out, true)?;
        let i = self.input_nodes[0];
        Ok(self.grads[i].view())
    }
}

impl<F: Float, I: Input<F>> fmt::Debug for Graph<F, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph").field("nodes", &self.summary()).finish()
    }
}
