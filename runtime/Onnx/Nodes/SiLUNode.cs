namespace GraphGen.Onnx.Nodes;

/// <summary>SiLU → x·σ(x): a Sigmoid node of its own, then the layer's node, a Mul of the input and that
/// sigmoid (no SiLU operator needed).</summary>
internal sealed class SiLUNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.SiLU;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var (current, shape) = (sources[0].Onnx, sources[0].Shape);
        string sigmoid = graph.Fresh($"{layer.Name}_sigmoid");
        graph.AddNode("Sigmoid", sigmoid, [current], sigmoid);
        graph.AddValueInfo(sigmoid, shape);
        return new("Mul", [current, sigmoid], shape); // equal shapes, so no broadcasting
    }
}
