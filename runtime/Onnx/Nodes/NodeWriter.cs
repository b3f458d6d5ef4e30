using System;
using System.Collections.Generic;
using System.Linq;

namespace GraphGen.Onnx.Nodes;

/// <summary>
/// How one layer kind becomes ONNX: the values it reads and the node (with its initializers and any helper
/// nodes) it writes. One sealed class per <see cref="LayerKind"/> in <c>Onnx/Nodes/</c>; <see cref="Of"/>
/// looks them up for <see cref="OnnxExporter"/>, which walks the graph, names the node after the layer and
/// checks its output shape.
/// </summary>
internal abstract class NodeWriter
{
    public abstract LayerKind Kind { get; }

    /// <summary>How many values the layer reads (at least that many when <see cref="MoreInputs"/>).</summary>
    public virtual int Inputs => 1;
    /// <inheritdoc cref="Inputs"/>
    public virtual bool MoreInputs => false;

    /// <summary>Checks what the layer reads against its description; by default every input has its InputShape.</summary>
    public virtual void CheckInputs(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources) => CheckEachInput(graph, layer, sources);

    /// <summary>The layer's node, reading <paramref name="sources"/> (their ONNX values).</summary>
    public abstract OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources);

    /// <summary>Every source has the layer's InputShape.</summary>
    public static void CheckEachInput(OnnxGraph graph, LayerInfo layer, IEnumerable<OnnxValue> sources)
    {
        foreach (var source in sources)
        {
            if (!layer.InputShape.SequenceEqual(source.Shape))
                throw new InvalidOperationException(
                    $"{graph.Net.Name}: layer {layer.Name} ({layer.Kind}) takes [{OnnxGraph.Join(layer.InputShape)}] but its input {source.Name} gives [{OnnxGraph.Join(source.Shape)}]");
        }
    }

    public static readonly IReadOnlyList<NodeWriter> All =
    [
        new Conv2DNode(), new DenseNode(), new BatchNormNode(), new SigmoidNode(), new ReLUNode(), new TanhNode(),
        new MaxPool2DNode(), new AvgPool2DNode(), new GlobalAvgPool2DNode(), new AddNode(), new ConcatNode(),
        new LeakyReLUNode(), new SiLUNode(), new DropoutNode(),
    ];

    private static readonly Dictionary<LayerKind, NodeWriter> ByKind = All.ToDictionary(w => w.Kind);

    /// <summary>The writer of <paramref name="kind"/>, or null where ONNX export does not support it.</summary>
    public static NodeWriter? Of(LayerKind kind) => ByKind.GetValueOrDefault(kind);
}

/// <summary>An elementwise operator of one input and no attributes (Sigmoid, Relu, Tanh, Identity).</summary>
internal abstract class UnaryNode : NodeWriter
{
    protected abstract string OpType { get; }

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources) => new(OpType, [sources[0].Onnx], sources[0].Shape);
}
