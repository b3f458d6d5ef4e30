using System;
using System.Linq;

namespace GraphGen.Onnx.Nodes;

/// <summary>Concat (a concat block's end) → Concat (axis 1) of two or more inputs in order, all [C, H, W] with the
/// same H×W or all [features] (the same value may be an input more than once).</summary>
internal sealed class ConcatNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.Concat;
    public override int Inputs => 2;
    public override bool MoreInputs => true;

    // Its InputShape is its first input's; the others may differ in channels (checked by Write).
    public override void CheckInputs(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources) => CheckEachInput(graph, layer, sources[..1]);

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        int[] shape = sources[0].Shape;
        int channels = 0;
        foreach (var source in sources)
        {
            if (source.Shape.Length != shape.Length || !source.Shape.AsSpan(1).SequenceEqual(shape.AsSpan(1)))
                throw new InvalidOperationException(
                    $"{graph.Net.Name}: layer {layer.Name} (Concat) concatenates {sources[0].Name} [{OnnxGraph.Join(shape)}] and {source.Name} [{OnnxGraph.Join(source.Shape)}]; "
                    + "its inputs must all be flat or all [C, H, W] with the same H×W");
            channels += source.Shape[0];
        }
        return new("Concat", sources.Select(source => source.Onnx).ToArray(), [channels, .. shape.AsSpan(1)],
            n => OnnxExporter.IntAttribute(n, "axis", 1)); // channels in [N, C, H, W], features in [N, F]
    }
}
