using System;

namespace GraphGen.Onnx.Nodes;

/// <summary>Conv2D → Conv: symmetric pads, strides, group, O×(C/group)×kH×kW weight and bias initializers.</summary>
internal sealed class Conv2DNode : NodeWriter
{
    public override LayerKind Kind => LayerKind.Conv2D;

    public override OnnxNode Write(OnnxGraph graph, LayerInfo layer, OnnxValue[] sources)
    {
        var shape = sources[0].Shape;
        graph.RequireImage(layer, shape);
        int c = shape[0], h = shape[1], w = shape[2], o = layer.Outputs, groups = layer.Groups;
        int kh = layer.Kernel, kw = layer.KernelWidth, sh = layer.Stride, sw = layer.StrideWidth, ph = layer.Padding, pw = layer.PaddingWidth;
        if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0 || o <= 0)
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} has kernel {kh}x{kw}, stride {sh}x{sw}, padding {ph}x{pw}, {o} outputs");
        if (groups <= 0 || c % groups != 0 || o % groups != 0)
            throw new InvalidOperationException($"{graph.Net.Name}: layer {layer.Name} has {groups} groups, which must divide its {c} input channels and {o} outputs");
        int[] outShape = [o, graph.WindowOutput(layer, h, kh, sh, ph), graph.WindowOutput(layer, w, kw, sw, pw)];
        string weight = graph.AddInitializer(layer, 0, [o, c / groups, kh, kw]);
        string bias = graph.AddInitializer(layer, 1, [o]);
        return new("Conv", [sources[0].Onnx, weight, bias], outShape, n =>
        {
            OnnxExporter.IntsAttribute(n, "kernel_shape", kh, kw);
            OnnxExporter.IntsAttribute(n, "strides", sh, sw);
            OnnxExporter.IntsAttribute(n, "pads", ph, pw, ph, pw);
            OnnxExporter.IntsAttribute(n, "dilations", 1, 1);
            OnnxExporter.IntAttribute(n, "group", groups);
        });
    }
}
