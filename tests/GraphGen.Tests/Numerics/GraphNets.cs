using System;
using System.Collections.Generic;
using System.Linq;

namespace GraphGen.Tests.Numerics;

/// <summary>
/// Graph-shaped networks built by hand, for the reference and the ONNX exporter while the generator
/// cannot compile residual and concat blocks yet: the <see cref="LayerInfo"/> lists a generated network
/// would expose, in topological order, with names counted per kind (conv1, add1, concat1, globalavgpool1).
/// </summary>
internal static class GraphNets
{
    public static readonly Dictionary<string, Func<int, HandNetwork>> All = new()
    {
        // input(5) → dense1 → add1(dense1, input): an identity shortcut straight from the network input,
        // which is therefore read twice.
        ["AddFromInput"] = seed =>
        {
            var b = new GraphBuilder(5);
            b.Dense(5); b.Tanh();
            b.Add(b.Last, LayerInfo.NetworkInput);
            b.Dense(3);
            return b.Build("AddFromInput", seed);
        },
        // Two dense branches of the same input summed, then a value (relu1) read by a dense and an add.
        ["AddBranches"] = seed =>
        {
            var b = new GraphBuilder(4);
            string dense1 = b.Dense(3, LayerInfo.NetworkInput);
            string dense2 = b.Dense(3, LayerInfo.NetworkInput);
            string relu1 = b.ReLU(b.Add(dense1, dense2));
            b.Add(b.Sigmoid(b.Dense(3, relu1)), relu1);
            b.Dense(2);
            return b.Build("AddBranches", seed);
        },
        // A C×H×W value (relu1) read by two Dense layers: both flatten it (the ONNX export once).
        ["SharedFlatten"] = seed =>
        {
            var b = new GraphBuilder(2, 3, 3);
            string relu1 = b.ReLU(b.Conv(2, 2));
            b.Add(b.Dense(3, relu1), b.Dense(3, relu1));
            b.Dense(2);
            return b.Build("SharedFlatten", seed);
        },
        // Conv → GlobalAvgPool2D on a non-square map → Dense.
        ["GlobalAvgPool"] = seed =>
        {
            var b = new GraphBuilder(2, 4, 6);
            b.Conv(3, 3, padding: 1); b.Tanh(); b.GlobalAvgPool(); b.Dense(3);
            return b.Build("GlobalAvgPool", seed);
        },
        // A depthwise-separable residual block with a rectangular stem: 2x3 kernel, stride 1x2, padding 1x0;
        // depthwise 3x3 with channel multiplier 2 (Groups = 2, 2 → 4), pointwise 1x1, grouped 3x1 (Groups = 2).
        ["GroupedConvs"] = seed =>
        {
            var b = new GraphBuilder(2, 6, 7);
            string x = b.ReLU(b.Conv(2, (2, 3), (1, 2), (1, 0)));
            b.ReLU(b.BatchNorm(b.Conv(4, (3, 3), (1, 1), (1, 1), groups: 2, from: x)));
            b.BatchNorm(b.Conv(2, (1, 1), (1, 1), (0, 0)));
            x = b.Add(b.Last, x);
            b.Tanh(b.Conv(4, (3, 1), (2, 1), (0, 0), groups: 2, from: x));
            b.Dense(3);
            return b.Build("GroupedConvs", seed);
        },
        ["IdentityBlock"] = seed => ResNet("IdentityBlock", seed, identity: true, projection: false),
        ["ProjectionBlock"] = seed => ResNet("ProjectionBlock", seed, identity: false, projection: true),
        ["ResNet"] = seed => ResNet("ResNet", seed, identity: true, projection: true),
        // A block inside a block: add2(add1-path, relu1), add1 closing an identity block on the main path.
        ["NestedBlocks"] = seed =>
        {
            var b = new GraphBuilder(2, 5, 5);
            string outer = b.ReLU(b.BatchNorm(b.Conv(3, 3, padding: 1)));
            string inner = b.ReLU(b.Conv(3, 3, padding: 1, from: outer));
            b.Conv(3, 1, from: inner); b.BatchNorm();
            b.ReLU(b.Add(b.Last, inner));
            b.Conv(3, 3, padding: 1);
            b.ReLU(b.Add(b.Last, outer));
            b.MaxPool(2, 2); b.Dense(4);
            return b.Build("NestedBlocks", seed);
        },
        // An Inception-style block: [Concat] [Conv2D(2, 1)] [Branch] [Conv2D(3, 3, Padding = 1)] [BatchNorm]
        // [ReLU] [EndConcat]. The first branch reads the layer before it, the second names the block input.
        ["InceptionBlock"] = seed =>
        {
            var b = new GraphBuilder(2, 5, 5);
            string x = b.Tanh(b.Conv(3, 3, padding: 1)); // (ReLU here puts seed 7 within 1e-5 of a kink)
            string wide = b.Conv(2, 1);
            string deep = b.ReLU(b.BatchNorm(b.Conv(3, 3, padding: 1, from: x)));
            b.Concat(wide, deep); // 5×5×5
            b.MaxPool(2, 2); b.Dense(4);
            return b.Build("InceptionBlock", seed);
        },
        // Pass-through branches (DenseNet-style): [Concat] [Branch] [Conv2D(2, 3, Padding = 1)] [Sigmoid]
        // [Branch] [EndConcat] reads tanh1, sigmoid1, tanh1: three inputs, one of them twice.
        ["PassThroughBranches"] = seed =>
        {
            var b = new GraphBuilder(2, 4, 4);
            string x = b.Tanh(b.Conv(3, 3, padding: 1));
            b.Conv(2, 3, padding: 1);
            b.Concat(x, b.Sigmoid(), x); // 8×4×4
            b.Conv(2, 3); b.Dense(3);
            return b.Build("PassThroughBranches", seed);
        },
        // Flat values of 3, 4 and 2 features concatenated, the network input among them.
        ["FlatConcat"] = seed =>
        {
            var b = new GraphBuilder(4);
            string tanh = b.Tanh(b.Dense(3));
            string sigmoid = b.Sigmoid(b.Dense(2, LayerInfo.NetworkInput));
            b.Concat(tanh, LayerInfo.NetworkInput, sigmoid);
            b.Dense(3);
            return b.Build("FlatConcat", seed);
        },
        // A concat block (1×1 and 3×3 branches) whose output, after BN and ReLU, is the input of an
        // identity residual block.
        ["ConcatResidual"] = seed =>
        {
            var b = new GraphBuilder(1, 6, 6);
            string x = b.ReLU(b.Conv(2, 3, padding: 1));
            string wide = b.Conv(2, 1, from: x);
            string deep = b.Conv(2, 3, padding: 1, from: x);
            string block = b.ReLU(b.BatchNorm(b.Concat(wide, deep))); // 4×6×6
            b.Conv(4, 3, padding: 1); b.BatchNorm();
            b.ReLU(b.Add(b.Last, block));
            b.GlobalAvgPool(); b.Dense(3);
            return b.Build("ConcatResidual", seed);
        },
        // LeakyReLU and SiLU on C×H×W values: a stem with LeakyReLU(0.1), an identity block whose main
        // path uses SiLU, closed by a LeakyReLU with the default slope.
        ["LeakySiLUBlock"] = seed =>
        {
            var b = new GraphBuilder(2, 5, 5);
            string x = b.LeakyReLU(0.1, b.BatchNorm(b.Conv(3, 3, padding: 1)));
            b.Conv(3, 3, padding: 1); b.SiLU(); b.Conv(3, 3, padding: 1); b.BatchNorm();
            b.LeakyReLU(from: b.Add(b.Last, x));
            b.GlobalAvgPool(); b.Dense(3);
            return b.Build("LeakySiLUBlock", seed);
        },
        // LeakyReLU and SiLU on flat values, one of each read by a concat.
        ["FlatLeakySiLU"] = seed =>
        {
            var b = new GraphBuilder(4);
            string leaky = b.LeakyReLU(0.25, b.BatchNorm(b.Dense(5)));
            string silu = b.SiLU(b.BatchNorm(b.Dense(3, leaky)));
            b.Concat(silu, leaky);
            b.Dense(3);
            return b.Build("FlatLeakySiLU", seed);
        },
        // Dropout on a C×H×W value inside an identity block (its mask is fixed by the step counter, set to
        // 5 so a step other than the first is exercised), and on a flat value before the classifier.
        ["DropoutBlock"] = seed =>
        {
            var b = new GraphBuilder(2, 5, 5);
            string x = b.Tanh(b.Conv(3, 3, padding: 1));
            b.Conv(3, 3, padding: 1); b.Dropout(0.3); b.BatchNorm();
            b.Add(b.Last, x);
            b.Dense(6); b.Tanh(); b.Dropout(0.5); b.Dense(3);
            var net = b.Build("DropoutBlock", seed);
            net.Tensor("dropout1.step")[0] = 5;
            net.Tensor("dropout2.step")[0] = 2;
            return net;
        },
    };

    /// <summary>The network of issue 9's example: a stem, an identity block (main path
    /// conv-bn-relu-conv-bn, shortcut = the block input), a projection block (main path strided conv-bn,
    /// shortcut 1×1 strided conv-bn), global average pooling and a dense classifier.</summary>
    private static HandNetwork ResNet(string name, int seed, bool identity, bool projection)
    {
        var b = new GraphBuilder(1, 8, 8);
        b.Conv(4, 3, padding: 1); b.BatchNorm();
        string x = b.ReLU();
        if (identity)
        {
            b.Conv(4, 3, padding: 1, from: x); // names the layer before it explicitly, as a generator may
            b.BatchNorm(); b.ReLU(); b.Conv(4, 3, padding: 1); b.BatchNorm();
            x = b.ReLU(b.Add(b.Last, x));
        }
        if (projection)
        {
            string main = b.BatchNorm(b.Conv(8, 3, stride: 2, padding: 1, from: x));
            string shortcut = b.BatchNorm(b.Conv(8, 1, stride: 2, from: x));
            b.ReLU(b.Add(main, shortcut));
        }
        b.GlobalAvgPool(); b.Dense(10);
        return b.Build(name, seed);
    }
}

/// <summary>Appends layers with inferred shapes and checkpoint tensors. Each method takes the name of
/// the value it reads (null: the layer before it, written as empty <see cref="LayerInfo.Inputs"/>) and
/// returns the new layer's name.</summary>
internal sealed class GraphBuilder
{
    private readonly int[] _inputShape;
    private readonly List<LayerInfo> _layers = new();
    private readonly List<TensorInfo> _tensors = new();
    private readonly Dictionary<string, int[]> _shapes = new();
    private readonly Dictionary<LayerKind, int> _counts = new();

    public GraphBuilder(params int[] inputShape)
    {
        _inputShape = inputShape;
        _shapes[LayerInfo.NetworkInput] = inputShape;
    }

    /// <summary>The name of the last layer added.</summary>
    public string Last => _layers[^1].Name;

    public string Conv(int outputs, int kernel, int stride = 1, int padding = 0, string? from = null)
    {
        int[] s = ShapeOf(from);
        int Side(int n) => (n + 2 * padding - kernel) / stride + 1;
        return Append(LayerKind.Conv2D, from, s, [outputs, Side(s[1]), Side(s[2])],
            name => [(name + ".weight", [outputs, s[0], kernel, kernel]), (name + ".bias", [outputs])],
            l => l with { Outputs = outputs, Kernel = kernel, Stride = stride, Padding = padding });
    }

    /// <summary>A convolution with a kh×kw kernel, strides and paddings per axis, and channel groups.</summary>
    public string Conv(int outputs, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, int groups = 1, string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.Conv2D, from, s, [outputs, (s[1] + 2 * padding.H - kernel.H) / stride.H + 1, (s[2] + 2 * padding.W - kernel.W) / stride.W + 1],
            name => [(name + ".weight", [outputs, s[0] / groups, kernel.H, kernel.W]), (name + ".bias", [outputs])],
            l => l with
            {
                Outputs = outputs, Kernel = kernel.H, KernelWidth = kernel.W, Stride = stride.H, StrideWidth = stride.W,
                Padding = padding.H, PaddingWidth = padding.W, Groups = groups,
            });
    }

    public string Dense(int outputs, string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.Dense, from, s, [outputs],
            name => [(name + ".weight", [outputs, ReferenceNetwork.Size(s)]), (name + ".bias", [outputs])],
            l => l with { Outputs = outputs });
    }

    public string BatchNorm(string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.BatchNorm, from, s, s,
            name => [(name + ".gamma", [s[0]]), (name + ".beta", [s[0]]), (name + ".moving_mean", [s[0]]), (name + ".moving_var", [s[0]])],
            l => l with { Epsilon = 1e-5, Momentum = 0.9 });
    }

    public string ReLU(string? from = null) => Elementwise(LayerKind.ReLU, from);
    public string Tanh(string? from = null) => Elementwise(LayerKind.Tanh, from);
    public string Sigmoid(string? from = null) => Elementwise(LayerKind.Sigmoid, from);
    public string SiLU(string? from = null) => Elementwise(LayerKind.SiLU, from);

    /// <summary>x for x &gt; 0, else <paramref name="slope"/>·x (PyTorch's default slope 0.01).</summary>
    public string LeakyReLU(double slope = 0.01, string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.LeakyReLU, from, s, s, _ => [], l => l with { Slope = slope });
    }

    /// <summary>Dropout with the given rate; its step counter is the state tensor "name.step" (0 until set).</summary>
    public string Dropout(double rate, string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.Dropout, from, s, s, name => [(name + ".step", [1])], l => l with { Rate = rate });
    }

    public string MaxPool(int size, int stride, string? from = null)
    {
        int[] s = ShapeOf(from);
        int Side(int n) => (n - size) / stride + 1;
        return Append(LayerKind.MaxPool2D, from, s, [s[0], Side(s[1]), Side(s[2])], _ => [], l => l with { Kernel = size, Stride = stride });
    }

    public string GlobalAvgPool(string? from = null)
    {
        int[] s = ShapeOf(from);
        return Append(LayerKind.GlobalAvgPool2D, from, s, [s[0], 1, 1], _ => [], l => l);
    }

    /// <summary>main + shortcut; both must have the same shape (not checked here, so tests can break it).</summary>
    public string Add(string main, string shortcut)
    {
        int[] s = _shapes[main];
        string name = NextName(LayerKind.Add);
        _layers.Add(new LayerInfo(name, LayerKind.Add, s, s) { Inputs = [main, shortcut] });
        _shapes[name] = s;
        return name;
    }

    /// <summary>The inputs concatenated along channels (features, for flat values), in order: the layer's
    /// InputShape is the first input's shape, its output C the sum of the inputs' (not checked here, so
    /// tests can break it).</summary>
    public string Concat(params string[] inputs)
    {
        int[] first = _shapes[inputs[0]];
        int[] s = [inputs.Sum(i => _shapes[i][0]), .. first[1..]];
        string name = NextName(LayerKind.Concat);
        _layers.Add(new LayerInfo(name, LayerKind.Concat, first, s) { Inputs = inputs });
        _shapes[name] = s;
        return name;
    }

    /// <summary>The network, with weights drawn uniformly from ±√(6 / (fan-in + fan-out)) and biases,
    /// γ, β and moving statistics randomized as <see cref="TestNets.Randomize"/> does.</summary>
    public HandNetwork Build(string name, int seed)
    {
        var net = new HandNetwork(name, _inputShape, _layers.ToArray(), _tensors.ToArray());
        var rng = new Random(seed);
        foreach (var t in _tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)))
        {
            int fanOut = t.Shape[0], fanIn = t.Length / fanOut;
            double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
            var v = net.Tensor(t.Name);
            for (int i = 0; i < v.Length; i++) v[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        }
        TestNets.Randomize(net, seed);
        return net;
    }

    private string Elementwise(LayerKind kind, string? from)
    {
        int[] s = ShapeOf(from);
        return Append(kind, from, s, s, _ => [], l => l);
    }

    private int[] ShapeOf(string? from) => _shapes[from ?? (_layers.Count == 0 ? LayerInfo.NetworkInput : Last)];

    private string Append(LayerKind kind, string? from, int[] inShape, int[] outShape,
        Func<string, (string Name, int[] Shape)[]> tensors, Func<LayerInfo, LayerInfo> configure)
    {
        string name = NextName(kind);
        var owned = tensors(name);
        foreach (var (tensor, shape) in owned)
            _tensors.Add(new TensorInfo(tensor, shape, tensor.Contains(".moving_") || tensor.EndsWith(".step", StringComparison.Ordinal) ? TensorKind.State : TensorKind.Parameter));
        var layer = new LayerInfo(name, kind, inShape, outShape) { Tensors = owned.Select(t => t.Name).ToArray(), Inputs = from is null ? [] : [from] };
        _layers.Add(configure(layer));
        _shapes[name] = outShape;
        return name;
    }

    private string NextName(LayerKind kind)
    {
        int n = _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        string prefix = kind switch
        {
            LayerKind.Conv2D => "conv",
            LayerKind.MaxPool2D => "maxpool",
            LayerKind.AvgPool2D => "avgpool",
            LayerKind.GlobalAvgPool2D => "globalavgpool",
            _ => kind.ToString().ToLowerInvariant(),
        };
        return prefix + n;
    }
}

/// <summary>A hand-written <see cref="INetwork"/> that holds its layers and tensors and nothing else: what
/// the reference network and the ONNX exporter read. It cannot train or infer.</summary>
internal sealed class HandNetwork : INetwork
{
    private readonly Dictionary<string, float[]> _values = new(StringComparer.Ordinal);
    private readonly int[] _inputShape;

    public HandNetwork(string name, int[] inputShape, LayerInfo[] layers, TensorInfo[] tensors)
    {
        Name = name;
        _inputShape = inputShape;
        Layers = layers;
        Tensors = tensors;
        foreach (var t in tensors) _values.Add(t.Name, new float[t.Length]);
    }

    public string Name { get; }
    public IReadOnlyList<int> InputShape => _inputShape;
    public int InputSize => ReferenceNetwork.Size(_inputShape);
    public int Classes => Layers[^1].OutputShape[0];
    public IReadOnlyList<LayerInfo> Layers { get; }
    public IReadOnlyList<TensorInfo> Tensors { get; }
    public Span<float> Tensor(string name) => _values[name];

    public int MaxBatch => throw new NotSupportedException();
    public int Threads => throw new NotSupportedException();
    public SimdPath Simd => throw new NotSupportedException();
    public ReadOnlySpan<float> Gradient(string name) => throw new NotSupportedException();
    public StepResult TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate) => throw new NotSupportedException();
    public StepResult TrainStep(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> labels, float learningRate) => throw new NotSupportedException();
    public void Infer(ReadOnlySpan<float> inputs, Span<float> logits) => throw new NotSupportedException();
    public void Infer(ReadOnlySpan<byte> pixels, Span<float> logits) => throw new NotSupportedException();
    public string? FindNonFinite() => throw new NotSupportedException();
    public string Summary() => throw new NotSupportedException();
    public IReadOnlyList<PhaseTime> PhaseTimes => throw new NotSupportedException();
    public void ResetPhaseTimes() => throw new NotSupportedException();
    public void Dispose() { }
}
