using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>LeakyReLU → LeakyRelu with alpha = the slope (as a float).</summary>
internal sealed class LeakyReLUNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.LeakyReLU;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        if (!(layer.Slope is >= 0 and < 1))
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} (LeakyReLU) has slope {layer.Slope}, expected a value in [0, 1)");
        float alpha = (float)layer.Slope;
        return new("LeakyRelu", [sources[0].Onnx], sources[0].Shape, n => OnnxExporter.FloatAttribute(n, "alpha", alpha));
    }
}
