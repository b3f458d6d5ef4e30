using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>BatchNorm → BatchNormalization with the moving statistics (scale = gamma, B = beta, mean =
/// moving_mean, var = moving_var), on [C, H, W] or [features].</summary>
internal sealed class BatchNormNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.BatchNorm;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var shape = sources[0].Shape;
        if (shape.Length is not (1 or 3))
            throw new NotSupportedException($"{graph.Net.Name}: layer {layer.Name} (BatchNorm) on a [{OnnxGraph.Join(shape)}] input is not supported by ONNX export");
        int c = shape[0];
        if (!(layer.Epsilon > 0) || !double.IsFinite(layer.Epsilon))
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} has epsilon {layer.Epsilon}");
        string[] inputs =
        [
            sources[0].Onnx,
            graph.AddInitializer(layer, 0, [c]), // gamma
            graph.AddInitializer(layer, 1, [c]), // beta
            graph.AddInitializer(layer, 2, [c]), // moving_mean
            graph.AddInitializer(layer, 3, [c]), // moving_var
        ];
        float epsilon = (float)layer.Epsilon, momentum = (float)layer.Momentum;
        return new("BatchNormalization", inputs, shape, n =>
        {
            OnnxExporter.FloatAttribute(n, "epsilon", epsilon);
            OnnxExporter.FloatAttribute(n, "momentum", momentum);
        });
    }
}
