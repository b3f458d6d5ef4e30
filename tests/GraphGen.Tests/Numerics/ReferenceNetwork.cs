using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Execution;

namespace GraphGen.Tests.Numerics;

/// <summary>
/// The oracle: a deliberately plain, double-precision, NCHW implementation of every layer kind,
/// written from the textbook definitions and sharing no code with the generator or the runtime.
/// Its own gradients are checked against central finite differences (ReferenceGradientTests);
/// the generated kernels are then checked against it.
/// </summary>
internal sealed class ReferenceNetwork
{
    private readonly IReadOnlyList<LayerInfo> _layers;
    public readonly Dictionary<string, double[]> Tensors = new();

    /// <param name="net">The network whose layers and current tensor values the reference copies.</param>
    /// <param name="seed">The <see cref="NetworkOptions.Seed"/> <paramref name="net"/> was created with: it draws
    /// the dropout masks (7 is what <see cref="TestNets.Create"/> uses unless told otherwise).</param>
    public ReferenceNetwork(INetwork net, int seed = 7)
    {
        _seed = seed;
        _layers = net.Layers;
        foreach (var t in net.Tensors) Tensors[t.Name] = net.Tensor(t.Name).ToArray().Select(v => (double)v).ToArray();
        InputShape = net.InputShape.ToArray();
        _sources = ResolveInputs(_layers);
    }

    public int[] InputShape { get; }

    private readonly int _seed;

    /// <summary>For each layer, the indices of the layers it reads (−1: the network input).</summary>
    private readonly int[][] _sources;

    /// <summary>Values of the last forward pass: each layer's output and per-sample shape (index −1 is the input).</summary>
    private double[] _input = [];
    private readonly List<double[]> _outputs = new();
    private readonly List<int[]> _shapes = new();
    private readonly Dictionary<int, (double[] Mean, double[] Var)> _batchStats = new();
    /// <summary>Each Dropout layer's mask in the last training forward pass (0 or 1/(1 − rate) per value).</summary>
    private readonly Dictionary<int, double[]> _masks = new();

    public static int Size(int[] s) => s.Aggregate(1, (a, b) => a * b);

    private double[] Value(int i) => i < 0 ? _input : _outputs[i];
    private int[] Shape(int i) => i < 0 ? InputShape : _shapes[i];

    /// <summary>Empty Inputs means the layer before (the network input for the first layer); a name is an
    /// earlier layer or <see cref="LayerInfo.NetworkInput"/>. An Add reads two values, a Concat two or more
    /// (the same value possibly more than once), every other kind one.</summary>
    private static int[][] ResolveInputs(IReadOnlyList<LayerInfo> layers)
    {
        var index = new Dictionary<string, int> { [LayerInfo.NetworkInput] = -1 };
        var sources = new int[layers.Count][];
        for (int li = 0; li < layers.Count; li++)
        {
            var l = layers[li];
            sources[li] = l.Inputs.Length == 0
                ? [li - 1]
                : l.Inputs.Select(name => index.TryGetValue(name, out int i) ? i
                    : throw new ArgumentException($"layer {l.Name} reads {name}, which is not the network input or an earlier layer")).ToArray();
            int read = sources[li].Length;
            if (l.Kind == LayerKind.Concat ? read < 2 : read != (l.Kind == LayerKind.Add ? 2 : 1))
                throw new ArgumentException($"layer {l.Name} ({l.Kind}) reads {read} values, expected "
                    + (l.Kind == LayerKind.Concat ? "at least 2" : l.Kind == LayerKind.Add ? "2" : "1"));
            if (!index.TryAdd(l.Name, li)) throw new ArgumentException($"two layers are named {l.Name}");
        }
        return sources;
    }

    /// <summary>Logits [n, classes] (the last layer's output). Training mode uses batch statistics and
    /// updates the moving ones.</summary>
    public double[] Forward(double[] x, int n, bool training)
    {
        _input = x; _outputs.Clear(); _shapes.Clear(); _batchStats.Clear(); _masks.Clear();
        for (int li = 0; li < _layers.Count; li++)
        {
            var l = _layers[li];
            int[] src = _sources[li];
            double[] a = Value(src[0]);
            int[] shape = Shape(src[0]);
            // A Concat's InputShape is its first input's; the others may differ in channels (ConcatShape).
            foreach (int i in l.Kind == LayerKind.Concat ? src[..1] : src)
                if (!Shape(i).SequenceEqual(l.InputShape))
                    throw new ArgumentException($"layer {l.Name} takes [{string.Join(", ", l.InputShape)}] but reads [{string.Join(", ", Shape(i))}]");
            var (y, outShape) = l.Kind switch
            {
                LayerKind.Conv2D => Conv(l, a, n, shape),
                LayerKind.Dense => Dense(l, a, n, shape),
                LayerKind.BatchNorm => BatchNorm(li, l, a, n, shape, training),
                LayerKind.Sigmoid => (a.Select(Sigmoid).ToArray(), shape),
                LayerKind.ReLU => (a.Select(v => Math.Max(0, v)).ToArray(), shape),
                LayerKind.Tanh => (a.Select(Math.Tanh).ToArray(), shape),
                LayerKind.LeakyReLU => (a.Select(v => v > 0 ? v : Slope(l) * v).ToArray(), shape),
                LayerKind.SiLU => (a.Select(v => v * Sigmoid(v)).ToArray(), shape),
                LayerKind.MaxPool2D => Pool(l, a, n, shape, max: true),
                LayerKind.AvgPool2D => Pool(l, a, n, shape, max: false),
                LayerKind.GlobalAvgPool2D => GlobalAvgPool(a, n, shape),
                LayerKind.Add => (a.Zip(Value(src[1]), (u, v) => u + v).ToArray(), shape),
                LayerKind.Concat => Concat(src, n, ConcatShape(l, src)),
                LayerKind.Dropout => Dropout(li, l, a, n, shape, training),
                _ => throw new NotSupportedException(l.Kind.ToString()),
            };
            _outputs.Add(y); _shapes.Add(outShape);
        }
        return _outputs[^1];
    }

    /// <summary>Mean softmax cross-entropy of the last forward pass (summed over samples here).</summary>
    public static (double LossSum, int Correct, double[] Grad) SoftmaxCrossEntropy(double[] logits, int[] labels, int classes)
    {
        int n = labels.Length;
        var grad = new double[logits.Length];
        double loss = 0; int correct = 0;
        for (int i = 0; i < n; i++)
        {
            var z = logits.AsSpan(i * classes, classes);
            double max = double.NegativeInfinity; int arg = 0;
            for (int c = 0; c < classes; c++) if (z[c] > max) { max = z[c]; arg = c; }
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.Exp(z[c] - max);
            loss += Math.Log(sum) + max - z[labels[i]];
            if (arg == labels[i]) correct++;
            for (int c = 0; c < classes; c++) grad[i * classes + c] = (Math.Exp(z[c] - max) / sum - (c == labels[i] ? 1 : 0)) / n;
        }
        return (loss, correct, grad);
    }

    /// <summary>Input of layer <paramref name="layer"/> (its first input) in the last forward pass.</summary>
    public double[] LayerInput(int layer) => Value(_sources[layer][0]);

    /// <summary>Gradient of the loss w.r.t. each layer's output, from the last <see cref="LossAndGradients"/>.</summary>
    public Dictionary<int, double[]> OutputGradients { get; } = new();

    /// <summary>Mean loss and the gradient of every parameter (training mode). Layers are visited in
    /// reverse order; the gradient of a value read by several layers is the sum of what each returns.</summary>
    public (double LossSum, int Correct, Dictionary<string, double[]> Grads) LossAndGradients(double[] x, int[] labels)
    {
        int n = labels.Length;
        var logits = Forward(x, n, training: true);
        var (loss, correct, dLogits) = SoftmaxCrossEntropy(logits, labels, _shapes[^1][0]);
        var grads = new Dictionary<string, double[]>();
        var dOut = new double[_layers.Count][]; // gradient of each layer's output, summed over its readers
        dOut[^1] = dLogits;
        for (int li = _layers.Count - 1; li >= 0; li--)
        {
            var l = _layers[li];
            int[] src = _sources[li];
            double[] input = Value(src[0]), output = _outputs[li];
            int[] s = Shape(src[0]);
            double[] g = dOut[li] ?? new double[output.Length]; // a value nobody reads has no gradient
            OutputGradients[li] = g;
            // What each input receives: a slice each for a Concat; otherwise the same dx for every input
            // (∂(a + b)/∂a = ∂(a + b)/∂b = 1: both inputs of an Add receive g).
            double[][] dxs = l.Kind == LayerKind.Concat ? ConcatBack(src, n, g) : Enumerable.Repeat(l.Kind switch
            {
                LayerKind.Conv2D => ConvBack(l, input, n, s, g, grads),
                LayerKind.Dense => DenseBack(l, input, n, s, g, grads),
                LayerKind.BatchNorm => BatchNormBack(li, l, input, n, s, g, grads),
                LayerKind.Sigmoid => g.Select((d, i) => d * output[i] * (1 - output[i])).ToArray(),
                LayerKind.ReLU => g.Select((d, i) => input[i] > 0 ? d : 0).ToArray(),
                LayerKind.Tanh => g.Select((d, i) => d * (1 - output[i] * output[i])).ToArray(),
                LayerKind.LeakyReLU => g.Select((d, i) => input[i] > 0 ? d : l.Slope * d).ToArray(),
                LayerKind.SiLU => g.Select((d, i) => d * SiLUDerivative(input[i])).ToArray(),
                LayerKind.MaxPool2D => PoolBack(li, l, input, n, s, g, max: true),
                LayerKind.AvgPool2D => PoolBack(li, l, input, n, s, g, max: false),
                LayerKind.GlobalAvgPool2D => GlobalAvgPoolBack(n, s, g),
                LayerKind.Add => g,
                LayerKind.Dropout => g.Select((d, i) => d * _masks[li][i]).ToArray(), // y = x·m, so dx = dy·m
                _ => throw new NotSupportedException(),
            }, src.Length).ToArray();
            for (int j = 0; j < src.Length; j++)
            {
                int i = src[j];
                if (i < 0) continue; // the gradient of the network input is not needed
                double[] dx = dxs[j];
                dOut[i] ??= new double[dx.Length];
                for (int k = 0; k < dx.Length; k++) dOut[i][k] += dx[k]; // a value read twice sums both
            }
        }
        return (loss, correct, grads);
    }

    public (double[] Mean, double[] Var) BatchStatistics(int layer) => _batchStats[layer];

    /// <summary>The values that <paramref name="layer"/> read in the last forward pass (its first input).</summary>
    public double[] InputOf(string layer)
    {
        int li = _layers.ToList().FindIndex(l => l.Name == layer);
        return li >= 0 ? Value(_sources[li][0]) : throw new ArgumentException($"the network has no layer {layer}");
    }

    // ---------------------------------------------------------------- layers

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x))).</summary>
    private static double SiLUDerivative(double x)
    {
        double s = Sigmoid(x);
        return s * (1 + x * (1 - s));
    }

    /// <summary>A LeakyReLU's slope for negative inputs, which must lie in [0, 1).</summary>
    private static double Slope(LayerInfo l) => l.Slope is >= 0 and < 1 ? l.Slope
        : throw new ArgumentException($"layer {l.Name} (LeakyReLU) has slope {l.Slope}, expected a value in [0, 1)");

    /// <summary>A Dropout's rate, which must lie in [0, 1).</summary>
    private static double Rate(LayerInfo l) => l.Rate is >= 0 and < 1 ? l.Rate
        : throw new ArgumentException($"layer {l.Name} (Dropout) has rate {l.Rate}, expected a value in [0, 1)");

    /// <summary>The identity in inference. In training, value f (the flat C×H×W or feature index) of sample i is multiplied by
    /// m = 1/(1 − rate) when <see cref="Kernels.DropoutKeeps"/> keeps it (the RNG's definition, at this layer's
    /// index and the step counter it holds before the step), else by 0. The scale is computed in float, as the
    /// generated kernels do, so both multiply by the same number.</summary>
    private (double[], int[]) Dropout(int li, LayerInfo l, double[] x, int n, int[] s, bool training)
    {
        float rate = (float)Rate(l);
        if (!training) return (x.ToArray(), s);
        string counter = l.Name + ".step";
        if (!Tensors.TryGetValue(counter, out double[]? steps) || steps.Length != 1)
            throw new ArgumentException($"layer {l.Name} (Dropout) needs a state tensor {counter} of one value");
        long step = (long)steps[0];
        double scale = 1f / (1f - rate);
        int features = Size(s);
        var mask = new double[x.Length];
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < features; f++)
            {
                int k = i * features + f;
                mask[k] = Kernels.DropoutKeeps(_seed, step, li, i, f, rate) ? scale : 0;
                y[k] = x[k] * mask[k];
            }
        _masks[li] = mask;
        return (y, s);
    }

    /// <summary>Convolution by definition: y[o,oh,ow] = b[o] + Σ over the Cg = C/G input channels of o's group
    /// g = o / (O/G) and the KH×KW taps of w[o,c,kh,kw]·x[g·Cg + c, oh·SH + kh − PH, ow·SW + kw − PW] (zero outside).</summary>
    private (double[], int[]) Conv(LayerInfo l, double[] x, int n, int[] s)
    {
        int C = s[0], H = s[1], W = s[2], O = l.Outputs, KH = l.Kernel, KW = l.KernelWidth, SH = l.Stride, SW = l.StrideWidth, PH = l.Padding, PW = l.PaddingWidth;
        int Cg = C / l.Groups, Og = O / l.Groups;
        int OH = l.OutputShape[1], OW = l.OutputShape[2];
        var w = Tensors[l.Name + ".weight"]; var b = Tensors[l.Name + ".bias"];
        var y = new double[n * O * OH * OW];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double sum = b[o];
                        for (int c = 0; c < Cg; c++)
                            for (int kh = 0; kh < KH; kh++)
                                for (int kw = 0; kw < KW; kw++)
                                {
                                    int ih = oh * SH + kh - PH, iw = ow * SW + kw - PW;
                                    if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
                                    sum += w[((o * Cg + c) * KH + kh) * KW + kw] * x[((i * C + o / Og * Cg + c) * H + ih) * W + iw];
                                }
                        y[((i * O + o) * OH + oh) * OW + ow] = sum;
                    }
        return (y, new[] { O, OH, OW });
    }

    private double[] ConvBack(LayerInfo l, double[] x, int n, int[] s, double[] dy, Dictionary<string, double[]> grads)
    {
        int C = s[0], H = s[1], W = s[2], O = l.Outputs, KH = l.Kernel, KW = l.KernelWidth, SH = l.Stride, SW = l.StrideWidth, PH = l.Padding, PW = l.PaddingWidth;
        int Cg = C / l.Groups, Og = O / l.Groups;
        int OH = l.OutputShape[1], OW = l.OutputShape[2];
        var w = Tensors[l.Name + ".weight"];
        var dw = new double[w.Length]; var db = new double[O]; var dx = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double g = dy[((i * O + o) * OH + oh) * OW + ow];
                        db[o] += g;
                        for (int c = 0; c < Cg; c++)
                            for (int kh = 0; kh < KH; kh++)
                                for (int kw = 0; kw < KW; kw++)
                                {
                                    int ih = oh * SH + kh - PH, iw = ow * SW + kw - PW;
                                    if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
                                    int wi = ((o * Cg + c) * KH + kh) * KW + kw, xi = ((i * C + o / Og * Cg + c) * H + ih) * W + iw;
                                    dw[wi] += g * x[xi];
                                    dx[xi] += g * w[wi];
                                }
                    }
        grads[l.Name + ".weight"] = dw; grads[l.Name + ".bias"] = db;
        return dx;
    }

    private (double[], int[]) Dense(LayerInfo l, double[] x, int n, int[] s)
    {
        int K = Size(s), F = l.Outputs;
        var w = Tensors[l.Name + ".weight"]; var b = Tensors[l.Name + ".bias"];
        var y = new double[n * F];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < F; f++)
            {
                double sum = b[f];
                for (int k = 0; k < K; k++) sum += w[f * K + k] * x[i * K + k];
                y[i * F + f] = sum;
            }
        return (y, new[] { F });
    }

    private double[] DenseBack(LayerInfo l, double[] x, int n, int[] s, double[] dy, Dictionary<string, double[]> grads)
    {
        int K = Size(s), F = l.Outputs;
        var w = Tensors[l.Name + ".weight"];
        var dw = new double[w.Length]; var db = new double[F]; var dx = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < F; f++)
            {
                double g = dy[i * F + f];
                db[f] += g;
                for (int k = 0; k < K; k++) { dw[f * K + k] += g * x[i * K + k]; dx[i * K + k] += g * w[f * K + k]; }
            }
        grads[l.Name + ".weight"] = dw; grads[l.Name + ".bias"] = db;
        return dx;
    }

    /// <summary>Per channel c, the flat indices of its values over (N, H, W).</summary>
    private static IEnumerable<int> ChannelIndices(int c, int n, int[] s)
    {
        int C = s[0], P = Size(s) / C;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < P; p++) yield return (i * C + c) * P + p;
    }

    private (double[], int[]) BatchNorm(int li, LayerInfo l, double[] x, int n, int[] s, bool training)
    {
        int C = s[0];
        var gamma = Tensors[l.Name + ".gamma"]; var beta = Tensors[l.Name + ".beta"];
        var mm = Tensors[l.Name + ".moving_mean"]; var mv = Tensors[l.Name + ".moving_var"];
        var y = new double[x.Length];
        var means = new double[C]; var vars = new double[C];
        for (int c = 0; c < C; c++)
        {
            var idx = ChannelIndices(c, n, s).ToArray();
            double mean, var;
            if (training)
            {
                mean = idx.Average(i => x[i]);
                var = idx.Average(i => (x[i] - mean) * (x[i] - mean)); // biased, two-pass
                mm[c] = l.Momentum * mm[c] + (1 - l.Momentum) * mean;
                mv[c] = l.Momentum * mv[c] + (1 - l.Momentum) * var;
            }
            else { mean = mm[c]; var = mv[c]; }
            means[c] = mean; vars[c] = var;
            foreach (int i in idx) y[i] = gamma[c] * (x[i] - mean) / Math.Sqrt(var + l.Epsilon) + beta[c];
        }
        _batchStats[li] = (means, vars);
        return (y, s);
    }

    private double[] BatchNormBack(int li, LayerInfo l, double[] x, int n, int[] s, double[] dy, Dictionary<string, double[]> grads)
    {
        int C = s[0];
        var gamma = Tensors[l.Name + ".gamma"];
        var (means, vars) = _batchStats[li];
        var dx = new double[x.Length]; var dg = new double[C]; var dbeta = new double[C];
        for (int c = 0; c < C; c++)
        {
            var idx = ChannelIndices(c, n, s).ToArray();
            double m = idx.Length, invStd = 1 / Math.Sqrt(vars[c] + l.Epsilon);
            double sumDxhat = 0, sumDxhatXhat = 0;
            foreach (int i in idx)
            {
                double xhat = (x[i] - means[c]) * invStd, dxhat = dy[i] * gamma[c];
                dg[c] += dy[i] * xhat; dbeta[c] += dy[i];
                sumDxhat += dxhat; sumDxhatXhat += dxhat * xhat;
            }
            foreach (int i in idx)
            {
                double xhat = (x[i] - means[c]) * invStd;
                dx[i] = invStd / m * (m * dy[i] * gamma[c] - sumDxhat - xhat * sumDxhatXhat);
            }
        }
        grads[l.Name + ".gamma"] = dg; grads[l.Name + ".beta"] = dbeta;
        return dx;
    }

    private static (double[], int[]) Pool(LayerInfo l, double[] x, int n, int[] s, bool max)
    {
        int C = s[0], H = s[1], W = s[2], P = l.Kernel, Q = l.Stride, OH = l.OutputShape[1], OW = l.OutputShape[2];
        var y = new double[n * C * OH * OW];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double acc = max ? double.NegativeInfinity : 0;
                        for (int u = 0; u < P; u++)
                            for (int v = 0; v < P; v++)
                            {
                                double val = x[((i * C + c) * H + oh * Q + u) * W + ow * Q + v];
                                acc = max ? Math.Max(acc, val) : acc + val / (P * P);
                            }
                        y[((i * C + c) * OH + oh) * OW + ow] = acc;
                    }
        return (y, new[] { C, OH, OW });
    }

    /// <summary>Max-pool windows whose gradient goes to a given position instead of the first maximum,
    /// keyed by (layer index, window: the flat index of the pool's output value); the position is
    /// u·P + v within the P×P window. See <see cref="MaxPoolNearTies"/>.</summary>
    public Dictionary<(int Layer, int Window), int> MaxPoolRoutes { get; } = new();

    /// <summary>Max-pool windows of the last forward pass whose largest inputs are within
    /// <paramref name="tolerance"/>·max(1, |max|) of each other: the positions (u·P + v) of all those
    /// inputs, the first maximum first. The arg-max of such a window is decided by rounding: float
    /// kernels that compute the inputs in float32 may pick any of them (a max pool's gradient is
    /// discontinuous there), and the gradient of everything before the pool then differs from this
    /// reference's by a whole routed value, not by rounding. Compare against a reference that routes
    /// these windows as the kernels did (<see cref="MaxPoolRoutes"/>).</summary>
    public List<(int Layer, int Window, int[] Positions)> MaxPoolNearTies(double tolerance)
    {
        var ties = new List<(int, int, int[])>();
        for (int li = 0; li < _layers.Count; li++)
        {
            var l = _layers[li];
            if (l.Kind != LayerKind.MaxPool2D) continue;
            double[] x = Value(_sources[li][0]);
            int[] s = Shape(_sources[li][0]);
            int C = s[0], H = s[1], W = s[2], P = l.Kernel, Q = l.Stride, OH = l.OutputShape[1], OW = l.OutputShape[2];
            int n = x.Length / (C * H * W);
            var values = new double[P * P];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < C; c++)
                    for (int oh = 0; oh < OH; oh++)
                        for (int ow = 0; ow < OW; ow++)
                        {
                            double best = double.NegativeInfinity; int first = 0;
                            for (int u = 0; u < P; u++)
                                for (int v = 0; v < P; v++)
                                {
                                    values[u * P + v] = x[((i * C + c) * H + oh * Q + u) * W + ow * Q + v];
                                    if (values[u * P + v] > best) { best = values[u * P + v]; first = u * P + v; }
                                }
                            double within = tolerance * Math.Max(1, Math.Abs(best));
                            int[] close = Enumerable.Range(0, P * P).Where(k => k != first && best - values[k] <= within).ToArray();
                            if (close.Length > 0) ties.Add((li, ((i * C + c) * OH + oh) * OW + ow, [first, .. close]));
                        }
        }
        return ties;
    }

    private double[] PoolBack(int li, LayerInfo l, double[] x, int n, int[] s, double[] dy, bool max)
    {
        int C = s[0], H = s[1], W = s[2], P = l.Kernel, Q = l.Stride, OH = l.OutputShape[1], OW = l.OutputShape[2];
        var dx = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double g = dy[((i * C + c) * OH + oh) * OW + ow];
                        int best = -1; double bestValue = double.NegativeInfinity;
                        for (int u = 0; u < P; u++)
                            for (int v = 0; v < P; v++)
                            {
                                int xi = ((i * C + c) * H + oh * Q + u) * W + ow * Q + v;
                                if (!max) dx[xi] += g / (P * P);
                                else if (x[xi] > bestValue) { bestValue = x[xi]; best = xi; } // first maximum wins
                            }
                        if (max && MaxPoolRoutes.TryGetValue((li, ((i * C + c) * OH + oh) * OW + ow), out int route))
                            best = ((i * C + c) * H + oh * Q + route / P) * W + ow * Q + route % P;
                        if (max) dx[best] += g;
                    }
        return dx;
    }

    /// <summary>Mean over H×W of each channel: C×H×W → C×1×1.</summary>
    private static (double[], int[]) GlobalAvgPool(double[] x, int n, int[] s)
    {
        int C = s[0], P = s[1] * s[2];
        var y = new double[n * C];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
            {
                double sum = 0;
                for (int p = 0; p < P; p++) sum += x[(i * C + c) * P + p];
                y[i * C + c] = sum / P;
            }
        return (y, new[] { C, 1, 1 });
    }

    private string NameOf(int i) => i < 0 ? LayerInfo.NetworkInput : _layers[i].Name;

    /// <summary>The shape a Concat's inputs concatenate to: they are all flat or all C×H×W with the same
    /// H×W, and the output's C is the sum of theirs; the layer must declare that shape.</summary>
    private int[] ConcatShape(LayerInfo l, int[] src)
    {
        int[] first = Shape(src[0]);
        int channels = 0;
        foreach (int i in src)
        {
            int[] s = Shape(i);
            if (s.Length != first.Length || !s[1..].SequenceEqual(first[1..]))
                throw new ArgumentException($"layer {l.Name} concatenates {NameOf(src[0])} [{string.Join(", ", first)}] and "
                    + $"{NameOf(i)} [{string.Join(", ", s)}]: all must be flat, or C×H×W with the same H×W");
            channels += s[0];
        }
        int[] output = [channels, .. first[1..]];
        if (!output.SequenceEqual(l.OutputShape))
            throw new ArgumentException($"layer {l.Name} declares output [{string.Join(", ", l.OutputShape)}], its inputs concatenate to [{string.Join(", ", output)}]");
        return output;
    }

    /// <summary>Per sample, the inputs' C×H×W (or feature) blocks one after another: in NCHW that is
    /// concatenation along channels.</summary>
    private (double[], int[]) Concat(int[] src, int n, int[] outShape)
    {
        int total = Size(outShape), offset = 0;
        var y = new double[n * total];
        foreach (int j in src)
        {
            int size = Size(Shape(j));
            for (int i = 0; i < n; i++) Array.Copy(Value(j), i * size, y, i * total + offset, size);
            offset += size;
        }
        return (y, outShape);
    }

    /// <summary>Each input receives the slice of the output gradient that its values were copied to.</summary>
    private double[][] ConcatBack(int[] src, int n, double[] dy)
    {
        int total = dy.Length / n, offset = 0;
        var dxs = new double[src.Length][];
        for (int k = 0; k < src.Length; k++)
        {
            int size = Size(Shape(src[k]));
            dxs[k] = new double[n * size];
            for (int i = 0; i < n; i++) Array.Copy(dy, i * total + offset, dxs[k], i * size, size);
            offset += size;
        }
        return dxs;
    }

    /// <summary>Each of the H×W inputs of a mean receives 1/(H·W) of its gradient.</summary>
    private static double[] GlobalAvgPoolBack(int n, int[] s, double[] dy)
    {
        int C = s[0], P = s[1] * s[2];
        var dx = new double[n * C * P];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                for (int p = 0; p < P; p++) dx[(i * C + c) * P + p] = dy[i * C + c] / P;
        return dx;
    }
}
