using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>Dropout → Identity: the export is inference, where dropout passes its input through (its step
/// counter is not exported).</summary>
internal sealed class DropoutNode : UnaryNode
{
    public override LayerKind Kind => LayerKind.Dropout;
    protected override string OpType => "Identity";

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        if (!(layer.Rate is >= 0 and < 1))
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} (Dropout) has rate {layer.Rate}, expected a value in [0, 1)");
        return base.Write(graph, layer, sources);
    }
}
