using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>Dense → Gemm with transB = 1 (out×in weight), preceded by a Flatten (axis 1) when its input is [C, H, W].</summary>
internal sealed class DenseNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.Dense;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var (current, shape) = (sources[0].Onnx, sources[0].Shape);
        if (shape.Length == 3)
            (current, shape) = (graph.Flatten(current, shape), [OnnxGraph.Product(shape)]);
        else if (shape.Length != 1)
            throw new NotSupportedException($"{graph.Net.Name}: layer {layer.Name} (Dense) on a [{OnnxGraph.Join(shape)}] input is not supported by ONNX export");
        int o = layer.Outputs;
        if (o <= 0)
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} has {o} outputs");
        string weight = graph.AddInitializer(layer, 0, [o, shape[0]]);
        string bias = graph.AddInitializer(layer, 1, [o]);
        return new("Gemm", [current, weight, bias], [o], n =>
        {
            OnnxExporter.FloatAttribute(n, "alpha", 1f);
            OnnxExporter.FloatAttribute(n, "beta", 1f);
            OnnxExporter.IntAttribute(n, "transA", 0);
            OnnxExporter.IntAttribute(n, "transB", 1);
        });
    }
}
