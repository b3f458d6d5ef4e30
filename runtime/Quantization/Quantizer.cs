using System;
using System.Collections.Generic;
using System.Linq;

namespace GraphGen.Quantization;

/// <summary>
/// Post-training int8 quantization of a trained network for inference.
/// </summary>
/// <remarks>
/// <para>The network's layers are walked as the ONNX exporter walks them (<see cref="LayerInfo.Inputs"/>).
/// A Conv2D or Dense starts a linear operation; a BatchNorm that is the only reader of it is folded into its
/// weights and bias (w·a, (b − mean)·a + beta with a = gamma/√(var + ε)); then an activation (ReLU, Sigmoid,
/// Tanh, LeakyReLU) and, after a convolution, a MaxPool2D are fused when each is the only reader of what
/// precedes it. Everything else is an operation of its own: a batch norm or activation elsewhere (SiLU
/// always) as a table per channel, MaxPool2D, AvgPool2D, GlobalAvgPool2D, the residual Add; Dropout is the
/// identity and a Dense reads a [C, H, W] value flattened. Other layers (Concat) are refused with a
/// <see cref="NotSupportedException"/> that names the layer.</para>
/// <para>Weights: symmetric int8 per output channel, scale = max |w| / 127. Biases: int32 in units of input
/// scale × weight scale. Activations: uint8 with a zero point (asymmetric), scale and zero point from the
/// minimum and maximum (widened to include 0) that the float computation reaches on the calibration samples:
/// min/max calibration, no percentile clipping. Byte images are quantized with scale 1/255, zero point 0, so
/// a pixel's code is the pixel. The last linear layer writes float logits.</para>
/// </remarks>
public static class Quantizer
{
    /// <summary>Quantizes <paramref name="net"/>, calibrating on byte images (each pixel divided by 255,
    /// as the network's own byte inference does), a few hundred training images being plenty.</summary>
    /// <param name="net">A trained network (its current tensors, moving statistics included, are used).</param>
    /// <param name="calibrationImages">Whole samples of <see cref="INetwork.InputSize"/> bytes, at least one.</param>
    /// <param name="options">Threads and kernels of the result.</param>
    /// <exception cref="ArgumentException">The calibration data is empty or not a whole number of samples.</exception>
    /// <exception cref="NotSupportedException">The network has a layer that int8 inference does not support; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The network's tensors are not finite, or its description is inconsistent.</exception>
    public static QuantizedNetwork Quantize(INetwork net, ReadOnlySpan<byte> calibrationImages, Int8Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        int n = CalibrationSamples(net, calibrationImages.Length);
        var floats = new float[calibrationImages.Length];
        for (int i = 0; i < floats.Length; i++) floats[i] = calibrationImages[i] / 255f;
        return Build(net, floats, n, byteInput: true, options);
    }

    /// <summary>Quantizes <paramref name="net"/>, calibrating on float inputs; the input's own range is
    /// calibrated too.</summary>
    /// <inheritdoc cref="Quantize(INetwork, ReadOnlySpan{byte}, Int8Options?)"/>
    public static QuantizedNetwork Quantize(INetwork net, ReadOnlySpan<float> calibrationInputs, Int8Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        int n = CalibrationSamples(net, calibrationInputs.Length);
        return Build(net, calibrationInputs.ToArray(), n, byteInput: false, options);
    }

    private static int CalibrationSamples(INetwork net, int length)
    {
        if (length == 0 || length % net.InputSize != 0)
            throw new ArgumentException($"{net.Name}: calibration data of {length} values is not one or more whole samples of {net.InputSize}", "calibration");
        return length / net.InputSize;
    }

    // A Conv2D or Dense being extended by the layers fused into it.
    private sealed class Linear
    {
        public required LayerInfo Layer;
        public required int Input;
        public required float[] Weight, Bias;
        public readonly List<string> Names = [];
        public string Tail = "";
        public bool Folded;
        public Activation? Act;
        public double Slope;
        public int PoolK, PoolS;
    }

    private static QuantizedNetwork Build(INetwork net, float[] calibration, int samples, bool byteInput, Int8Options? options)
    {
        var (values, ops) = Graph(net);

        // Calibration: the float computation of the same graph (folded), sample by sample, recording ranges.
        var buffers = values.Select(v => new float[v.Size]).ToArray();
        for (int i = 0; i < samples; i++)
        {
            calibration.AsSpan(i * net.InputSize, net.InputSize).CopyTo(buffers[0]);
            Record(values[0], buffers[0]);
            foreach (Int8Op op in ops)
            {
                op.RunFloat(buffers);
                Record(values[op.Output], buffers[op.Output]);
            }
        }
        (values[0].Scale, values[0].ZeroPoint) = byteInput ? (1f / 255, 0) : Int8Math.Range(values[0].Min, values[0].Max);
        foreach (Int8Op op in ops)
        {
            QValue y = values[op.Output];
            (y.Scale, y.ZeroPoint) = op is PoolOp ? (values[op.Inputs[0]].Scale, values[op.Inputs[0]].ZeroPoint) : Int8Math.Range(y.Min, y.Max);
        }
        foreach (Int8Op op in ops) op.Prepare(values);
        return new QuantizedNetwork(net.Name, values, ops, options);
    }

    private static void Record(QValue value, float[] data)
    {
        foreach (float x in data)
        {
            if (float.IsNaN(x)) throw new InvalidOperationException("calibration produced NaN: the network's parameters are not finite");
            if (x < value.Min) value.Min = x;
            if (x > value.Max) value.Max = x;
        }
    }

    private static (QValue[] Values, Int8Op[] Ops) Graph(INetwork net)
    {
        IReadOnlyList<LayerInfo> layers = net.Layers;
        if (layers.Count == 0) throw new InvalidOperationException($"{net.Name}: the network has no layers");
        int[] inputShape = net.InputShape.ToArray();
        if (inputShape.Length is not (1 or 3))
            throw new NotSupportedException($"{net.Name}: int8 inference handles [C, H, W] or [features] inputs, not [{string.Join(", ", inputShape)}]");
        string[] Sources(int i) => layers[i].Inputs.Length > 0 ? layers[i].Inputs : [i == 0 ? LayerInfo.NetworkInput : layers[i - 1].Name];
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
            foreach (string s in Sources(i)) readers[s] = readers.GetValueOrDefault(s) + 1;

        var values = new List<QValue> { new(inputShape) };
        var valueOf = new Dictionary<string, int>(StringComparer.Ordinal) { [LayerInfo.NetworkInput] = 0 };
        var ops = new List<Int8Op>();
        Linear? open = null;

        int NewValue(int[] shape) { values.Add(new QValue(shape)); return values.Count - 1; }
        int Read(LayerInfo layer, string source) => valueOf.TryGetValue(source, out int v) ? v
            : throw new InvalidOperationException($"{net.Name}: layer {layer.Name} reads {source}, which is neither the network input nor an earlier layer");
        float[] Tensor(LayerInfo layer, int index, int length)
        {
            if (layer.Tensors.Length <= index)
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name} ({layer.Kind}) lists {layer.Tensors.Length} tensors, expected at least {index + 1}");
            float[] data = net.Tensor(layer.Tensors[index]).ToArray();
            if (data.Length != length)
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name}'s tensor {layer.Tensors[index]} holds {data.Length} values, expected {length}");
            return data;
        }
        void Close()
        {
            if (open is null) return;
            LayerInfo l = open.Layer;
            bool conv = l.Kind == LayerKind.Conv2D;
            var input = values[open.Input];
            var op = new LinearOp(string.Join("+", open.Names), open.Input, -1, conv, input.Shape, l.Outputs, l.Kernel, l.Stride, l.Padding,
                open.Weight, open.Bias, open.Act ?? Activation.Identity, open.Slope, open.PoolK, open.PoolS);
            int output = NewValue(op.OutputShape);
            op = new LinearOp(op.Name, open.Input, output, conv, input.Shape, l.Outputs, l.Kernel, l.Stride, l.Padding,
                open.Weight, open.Bias, open.Act ?? Activation.Identity, open.Slope, open.PoolK, open.PoolS);
            ops.Add(op);
            foreach (string name in open.Names) valueOf[name] = output;
            open = null;
        }

        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i];
            string[] sources = Sources(i);
            bool fusable = open is not null && sources.Length == 1 && sources[0] == open.Tail && readers.GetValueOrDefault(open.Tail) == 1;
            void Fuse() { open!.Names.Add(layer.Name); open.Tail = layer.Name; }
            Activation? act = layer.Kind switch
            {
                LayerKind.ReLU => Activation.ReLU, LayerKind.Sigmoid => Activation.Sigmoid, LayerKind.Tanh => Activation.Tanh,
                LayerKind.LeakyReLU => Activation.LeakyReLU, LayerKind.SiLU => Activation.SiLU, _ => null,
            };
            if (layer.Kind == LayerKind.BatchNorm && fusable && !open!.Folded && open.Act is null && open.PoolK == 0)
            {
                int o = open.Layer.Outputs;
                var (a, b) = BatchNorm(net, layer, o, Tensor);
                int depth = open.Weight.Length / o;
                for (int c = 0; c < o; c++)
                {
                    for (int k = 0; k < depth; k++) open.Weight[c * depth + k] = (float)(open.Weight[c * depth + k] * (double)a[c]);
                    open.Bias[c] = (float)(open.Bias[c] * (double)a[c] + b[c]);
                }
                open.Folded = true;
                Fuse();
                continue;
            }
            if (act is { } f && f != Activation.SiLU && fusable && open!.Act is null && open.PoolK == 0)
            {
                open.Act = f;
                open.Slope = layer.Slope;
                Fuse();
                continue;
            }
            if (layer.Kind == LayerKind.MaxPool2D && fusable && open!.Layer.Kind == LayerKind.Conv2D && open.PoolK == 0 && layer.Kernel > 0)
            {
                open.PoolK = layer.Kernel;
                open.PoolS = layer.Stride > 0 ? layer.Stride : layer.Kernel;
                Fuse();
                continue;
            }
            Close();
            int x = Read(layer, sources[0]);
            int[] shape = values[x].Shape;
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                case LayerKind.Dense:
                {
                    bool conv = layer.Kind == LayerKind.Conv2D;
                    if (conv && (layer.Groups != 1 || layer.KernelWidth != layer.Kernel || layer.StrideWidth != layer.Stride || layer.PaddingWidth != layer.Padding))
                        throw new NotSupportedException($"{net.Name}: layer {layer.Name} is a grouped or rectangular Conv2D (groups {layer.Groups}, kernel {layer.Kernel}x{layer.KernelWidth}, stride {layer.Stride}x{layer.StrideWidth}, padding {layer.Padding}x{layer.PaddingWidth}), which int8 quantization does not support yet");
                    if (conv && (shape.Length != 3 || layer.Kernel <= 0 || layer.Stride <= 0 || layer.Padding < 0 || layer.Kernel > shape[1] + 2 * layer.Padding || layer.Kernel > shape[2] + 2 * layer.Padding))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} (Conv2D) has kernel {layer.Kernel}, stride {layer.Stride}, padding {layer.Padding} on [{string.Join(", ", shape)}]");
                    if (layer.Outputs <= 0) throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has {layer.Outputs} outputs");
                    int depth = conv ? shape[0] * layer.Kernel * layer.Kernel : QValue.Product(shape);
                    open = new Linear
                    {
                        Layer = layer, Input = x,
                        Weight = Tensor(layer, 0, layer.Outputs * depth), Bias = Tensor(layer, 1, layer.Outputs),
                        Tail = layer.Name,
                    };
                    open.Names.Add(layer.Name);
                    continue;
                }
                case LayerKind.BatchNorm:
                {
                    int channels = shape[0], size = values[x].Size / channels;
                    var (a, b) = BatchNorm(net, layer, channels, Tensor);
                    var op = new LookupOp(layer.Name, x, NewValue(shape), channels, size, Activation.Identity, 0, a, b);
                    ops.Add(op);
                    valueOf[layer.Name] = op.Output;
                    break;
                }
                case LayerKind.ReLU or LayerKind.Sigmoid or LayerKind.Tanh or LayerKind.LeakyReLU or LayerKind.SiLU:
                {
                    var op = new LookupOp(layer.Name, x, NewValue(shape), 1, values[x].Size, act!.Value, layer.Slope, null, null);
                    ops.Add(op);
                    valueOf[layer.Name] = op.Output;
                    break;
                }
                case LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool2D:
                {
                    if (shape.Length != 3) throw new NotSupportedException($"{net.Name}: layer {layer.Name} ({layer.Kind}) on a [{string.Join(", ", shape)}] input is not supported by int8 inference");
                    bool global = layer.Kind == LayerKind.GlobalAvgPool2D;
                    int k = layer.Kernel, s = layer.Stride > 0 ? layer.Stride : layer.Kernel;
                    if (!global && (k <= 0 || k > shape[1] || k > shape[2]))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has window {k} on [{string.Join(", ", shape)}]");
                    var pool = global ? new PoolOp(layer.Name, x, -1, false, shape, shape[1], shape[2], 1)
                                      : new PoolOp(layer.Name, x, -1, layer.Kind == LayerKind.MaxPool2D, shape, k, k, s);
                    pool = new PoolOp(layer.Name, x, NewValue([shape[0], pool.OH, pool.OW]), pool.Max, shape, pool.KH, pool.KW, pool.S);
                    ops.Add(pool);
                    valueOf[layer.Name] = pool.Output;
                    break;
                }
                case LayerKind.Add:
                {
                    if (sources.Length != 2) throw new InvalidOperationException($"{net.Name}: layer {layer.Name} (Add) reads {sources.Length} values, expected 2");
                    int y = Read(layer, sources[1]);
                    if (!values[y].Shape.SequenceEqual(shape))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} (Add) adds values of shapes [{string.Join(", ", shape)}] and [{string.Join(", ", values[y].Shape)}]");
                    var op = new AddOp(layer.Name, x, y, NewValue(shape));
                    ops.Add(op);
                    valueOf[layer.Name] = op.Output;
                    break;
                }
                case LayerKind.Dropout:
                    valueOf[layer.Name] = x; // the identity in inference
                    break;
                default:
                    throw new NotSupportedException($"{net.Name}: layer {layer.Name} is of kind {layer.Kind}, which int8 quantization does not support");
            }
        }
        Close();

        if (ops.Count == 0) throw new NotSupportedException($"{net.Name}: the network has no layer that int8 inference computes");
        int result = valueOf[layers[^1].Name];
        if (result != ops[^1].Output)
            throw new NotSupportedException($"{net.Name}: the last layer, {layers[^1].Name}, is not computed by the last int8 operation");
        if (ops[^1] is LinearOp last) last.Final = true;
        if (values[result].Size != net.Classes)
            throw new InvalidOperationException($"{net.Name}: the last layer gives {values[result].Size} values per sample, the network has {net.Classes} classes");
        return (values.ToArray(), ops.ToArray());
    }

    // Inference batch norm as y = x·a + b per channel: a = gamma/√(var + ε), b = beta − mean·a.
    private static (float[] A, float[] B) BatchNorm(INetwork net, LayerInfo layer, int channels, Func<LayerInfo, int, int, float[]> tensor)
    {
        if (!(layer.Epsilon > 0)) throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has epsilon {layer.Epsilon}");
        float[] gamma = tensor(layer, 0, channels), beta = tensor(layer, 1, channels), mean = tensor(layer, 2, channels), variance = tensor(layer, 3, channels);
        var a = new float[channels];
        var b = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double scale = gamma[c] / Math.Sqrt(variance[c] + layer.Epsilon);
            a[c] = (float)scale;
            b[c] = (float)(beta[c] - mean[c] * scale);
        }
        return (a, b);
    }
}
