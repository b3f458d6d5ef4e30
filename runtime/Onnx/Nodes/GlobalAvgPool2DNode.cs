namespace GraphGen.Onnx.Nodes;

/// <summary>GlobalAvgPool2D → GlobalAveragePool: [C, H, W] → [C, 1, 1].</summary>
internal sealed class GlobalAvgPool2DNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.GlobalAvgPool2D;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var shape = sources[0].Shape;
        graph.RequireImage(layer, shape);
        return new("GlobalAveragePool", [sources[0].Onnx], [shape[0], 1, 1]);
    }
}
