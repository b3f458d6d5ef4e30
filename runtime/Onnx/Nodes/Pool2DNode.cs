using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>MaxPool2D/AvgPool2D → MaxPool/AveragePool: a square window without padding (the stride is the
/// window where not set).</summary>
internal abstract class Pool2DNode : NodeWriter
{
    protected abstract string OpType { get; }

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var shape = sources[0].Shape;
        graph.RequireImage(layer, shape);
        int k = layer.Kernel, s = layer.Stride > 0 ? layer.Stride : layer.Kernel;
        if (k <= 0)
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} has window {k}");
        int[] outShape = [shape[0], graph.WindowOutput(layer, shape[1], k, s, 0), graph.WindowOutput(layer, shape[2], k, s, 0)];
        return new(OpType, [sources[0].Onnx], outShape, n =>
        {
            OnnxExporter.IntsAttribute(n, "kernel_shape", k, k);
            OnnxExporter.IntsAttribute(n, "strides", s, s);
            OnnxExporter.IntsAttribute(n, "pads", 0, 0, 0, 0);
        });
    }
}
