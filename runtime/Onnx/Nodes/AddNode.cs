using System;
using System.Linq;

namespace GraphGen.Onnx.Nodes;

/// <summary>Add (a residual block's end) → Add of main path and shortcut, which have one shape (no broadcasting).</summary>
internal sealed class AddNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.Add;
    public override int Inputs => 2;

    public override void CheckInputs(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        if (!sources[0].Shape.SequenceEqual(sources[1].Shape))
            throw new InvalidOperationException(
                $"{graph.Net.Name}: layer {layer.Name} (Add) adds {sources[0].Name} [{OnnxGraph.Join(sources[0].Shape)}] and {sources[1].Name} [{OnnxGraph.Join(sources[1].Shape)}], which differ in shape");
        base.CheckInputs(graph, layer, sources);
    }

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources) =>
        new("Add", [sources[0].Onnx, sources[1].Onnx], sources[0].Shape);
}
