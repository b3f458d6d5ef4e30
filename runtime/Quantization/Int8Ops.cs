using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphGen.Quantization;

/// <summary>A value of the int8 graph (the output of an operation, or the input), per sample: its shape
/// ([C, H, W] or [features], channel-major), its uint8 quantization and, while calibrating, its range.</summary>
internal sealed class QValue(int[] shape)
{
    public int[] Shape { get; } = shape;
    public int Size { get; } = Product(shape);
    public float Scale { get; set; } = 1f / 255;
    public int ZeroPoint { get; set; }
    public float Min { get; set; } = float.PositiveInfinity;
    public float Max { get; set; } = float.NegativeInfinity;

    public static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }
}

/// <summary>One worker's buffers: a uint8 buffer per value (one sample), and the staging buffers of the
/// convolution kernels. Sized at construction; inference allocates nothing.</summary>
internal sealed class Int8Scratch
{
    // Vector loads and stores may run up to this many bytes past the end of a buffer.
    public const int Slack = 64;
    public readonly byte[][] Values;
    public readonly byte[] Padded;
    public readonly byte[] Columns;
    public readonly int[] Accumulators;
    public readonly int[] Pooled;

    public Int8Scratch(QValue[] values, Int8Op[] ops)
    {
        Values = new byte[values.Length][];
        for (int i = 0; i < values.Length; i++) Values[i] = new byte[values[i].Size + Slack];
        int padded = 0, columns = 0, accumulators = 0, pooled = 0;
        foreach (var op in ops)
        {
            if (op is not LinearOp l) continue;
            padded = Math.Max(padded, l.PaddedBytes);
            columns = Math.Max(columns, l.ColumnBytes);
            accumulators = Math.Max(accumulators, l.AccumulatorCount);
            pooled = Math.Max(pooled, l.O * l.PH * l.PW);
        }
        Pooled = new int[pooled + 4];
        Padded = new byte[padded + Slack];
        Columns = new byte[columns + Slack];
        Accumulators = new int[accumulators + 16];
    }
}

/// <summary>One operation of the int8 graph: the layers it covers, the values it reads and the value it writes.</summary>
internal abstract class Int8Op(string name, int[] inputs, int output)
{
    public string Name { get; } = name;
    public int[] Inputs { get; } = inputs;
    public int Output { get; } = output;

    /// <summary>The float computation, on float copies of the values: calibration.</summary>
    public abstract void RunFloat(float[][] values);

    /// <summary>Quantizes the parameters once the scales of every value are known.</summary>
    public virtual void Prepare(QValue[] values) { }

    /// <summary>One sample: reads the input values' codes and writes the output's (or, for a final
    /// linear operation, the logits).</summary>
    public abstract void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits);
}

/// <summary>A Conv2D or Dense with its batch norm folded in, an activation and (conv) a max-pool fused:
/// int8 weights (symmetric, per output channel), an int32 bias in units of input scale × weight scale, uint8
/// activations with a zero point. The dot products are exact int32 sums; a per-channel table of 255
/// accumulator thresholds maps each (max-pooled) accumulator to its output code, which equals quantizing
/// f(accumulator × input scale × weight scale) (<see cref="Int8Math.Thresholds"/>). The final layer of a network
/// writes f(accumulator × scales) as float logits instead.</summary>
internal sealed class LinearOp : Int8Op
{
    public readonly bool Conv;
    public readonly int C, H, W, K, S, P, O, OH, OW, PoolK, PoolS, PH, PW;
    public readonly Activation Act;
    public readonly double Slope;
    public bool Final { get; set; }
    // Float parameters, batch norm folded in: weight O×(C·K·K) or O×features, bias O.
    public readonly float[] WeightF, BiasF;
    // Quantized parameters.
    public sbyte[] Weight = [];
    public float[] WeightScale = [];
    public int[] Bias = [];
    // Derived: bias minus zero point × weight sum; level tables; logit multipliers; packed weights.
    private int[] _correction = [];
    private int[] _tables = [];
    private double[] _multiplier = [];
    private int[] _packedConv = [];     // [Oq][Q] quads of 4 weights (kernel rows padded to a multiple of 4)
    private sbyte[] _packedDense = [];  // [K4][Opad][4]
    private int _zeroPoint;

    public int Depth => Conv ? C * K * K : C;          // weights per output
    private int Positions => OH * OW;
    private int PositionsPadded => Conv ? (Positions + 7) & ~7 : 1;
    private int Oq => (O + 3) & ~3;
    private int Opad => (O + 7) & ~7;
    private int RowQuads => (K + 3) / 4;
    private int Quads => C * K * RowQuads;
    private int Hp => H + 2 * P;
    private int Wp => W + 2 * P;
    public int PaddedBytes => Conv ? C * Hp * Wp : 0;
    public int ColumnBytes => Conv ? Quads * PositionsPadded * 4 : 0;
    public int AccumulatorCount => Conv ? Oq * PositionsPadded : Opad;

    public LinearOp(string name, int input, int output, bool conv, int[] inShape, int outputs, int kernel, int stride, int padding,
        float[] weight, float[] bias, Activation act, double slope, int poolK, int poolS) : base(name, [input], output)
    {
        Conv = conv;
        C = inShape[0]; H = conv ? inShape[1] : 1; W = conv ? inShape[2] : 1;
        if (!conv) C = QValue.Product(inShape);
        K = conv ? kernel : 1; S = conv ? stride : 1; P = conv ? padding : 0; O = outputs;
        OH = conv ? (H + 2 * P - K) / S + 1 : 1;
        OW = conv ? (W + 2 * P - K) / S + 1 : 1;
        PoolK = poolK; PoolS = poolS;
        PH = poolK > 0 ? (OH - poolK) / poolS + 1 : OH;
        PW = poolK > 0 ? (OW - poolK) / poolS + 1 : OW;
        WeightF = weight; BiasF = bias; Act = act; Slope = slope;
        // The accumulator of q·w over the depth, plus the bias and zero-point terms, must stay in int32.
        if ((long)Depth * 255 * 127 > 1 << 29)
            throw new NotSupportedException($"layer {name}: {Depth} weights per output is more than int8 inference's int32 accumulator allows (at most {(1 << 29) / (255 * 127)})");
    }

    public int[] OutputShape => Conv ? [O, PH, PW] : [O];

    public override void RunFloat(float[][] values)
    {
        float[] x = values[Inputs[0]], y = values[Output];
        var pre = new float[O * Positions];
        int depth = Depth;
        for (int o = 0; o < O; o++)
        for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
        {
            double sum = BiasF[o];
            if (Conv)
            {
                for (int c = 0; c < C; c++)
                for (int ky = 0; ky < K; ky++)
                {
                    int iy = oy * S + ky - P;
                    if ((uint)iy >= (uint)H) continue;
                    for (int kx = 0; kx < K; kx++)
                    {
                        int ix = ox * S + kx - P;
                        if ((uint)ix >= (uint)W) continue;
                        sum += (double)WeightF[o * depth + (c * K + ky) * K + kx] * x[(c * H + iy) * W + ix];
                    }
                }
            }
            else
            {
                for (int k = 0; k < depth; k++) sum += (double)WeightF[o * depth + k] * x[k];
            }
            pre[(o * OH + oy) * OW + ox] = (float)Int8Math.Activate(Act, Slope, sum);
        }
        for (int o = 0; o < O; o++)
        for (int py = 0; py < PH; py++)
        for (int px = 0; px < PW; px++)
            y[(o * PH + py) * PW + px] = PoolK == 0 ? pre[(o * OH + py) * OW + px] : WindowMax(pre, o, py, px);
    }

    private float WindowMax(float[] pre, int o, int py, int px)
    {
        float m = float.NegativeInfinity;
        for (int dy = 0; dy < PoolK; dy++)
        for (int dx = 0; dx < PoolK; dx++)
            m = Math.Max(m, pre[(o * OH + py * PoolS + dy) * OW + px * PoolS + dx]);
        return m;
    }

    /// <summary>Quantizes the float parameters (weights per channel to ±127, the bias to int32).</summary>
    public void QuantizeParameters(QValue input)
    {
        int depth = Depth;
        Weight = new sbyte[O * depth];
        WeightScale = new float[O];
        Bias = new int[O];
        for (int o = 0; o < O; o++)
        {
            float max = 0;
            for (int k = 0; k < depth; k++) max = Math.Max(max, Math.Abs(WeightF[o * depth + k]));
            if (!float.IsFinite(max))
                throw new InvalidOperationException($"layer {Name}: output channel {o} has a non-finite weight");
            float scale = max > 0 ? max / 127 : 1f;
            WeightScale[o] = scale;
            for (int k = 0; k < depth; k++)
                Weight[o * depth + k] = (sbyte)Math.Clamp(Math.Round(WeightF[o * depth + k] / (double)scale, MidpointRounding.ToEven), -127, 127);
            double bias = Math.Round(BiasF[o] / ((double)input.Scale * scale), MidpointRounding.ToEven);
            if (double.IsNaN(bias))
                throw new InvalidOperationException($"layer {Name}: output channel {o} has a non-finite bias");
            Bias[o] = (int)Math.Clamp(bias, -(1 << 29), 1 << 29);
        }
    }

    public override void Prepare(QValue[] values)
    {
        QValue input = values[Inputs[0]], output = values[Output];
        if (Weight.Length == 0) QuantizeParameters(input);
        int depth = Depth;
        _zeroPoint = input.ZeroPoint;
        _correction = new int[O];
        _multiplier = new double[O];
        _tables = new int[O * 256];
        for (int o = 0; o < O; o++)
        {
            int sum = 0;
            for (int k = 0; k < depth; k++) sum += Weight[o * depth + k];
            _correction[o] = Bias[o] - input.ZeroPoint * sum;
            _multiplier[o] = (double)input.Scale * WeightScale[o];
            if (!Final) Int8Math.Thresholds(_tables.AsSpan(o * 256, 256), _multiplier[o], Act, Slope, output.Scale, output.ZeroPoint);
        }
        Pack();
    }

    private void Pack()
    {
        int depth = Depth;
        if (Conv)
        {
            int rq = RowQuads, q4 = Quads;
            _packedConv = new int[Oq * q4];
            for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
            for (int h = 0; h < rq; h++)
            {
                int word = 0;
                for (int j = 0; j < 4; j++)
                {
                    int kx = 4 * h + j;
                    sbyte w = kx < K ? Weight[o * depth + (c * K + ky) * K + kx] : (sbyte)0;
                    word |= (byte)w << (8 * j);
                }
                _packedConv[o * q4 + (c * K + ky) * rq + h] = word;
            }
        }
        else
        {
            int k4 = (depth + 3) / 4, opad = Opad;
            _packedDense = new sbyte[k4 * opad * 4];
            for (int o = 0; o < O; o++)
            for (int k = 0; k < depth; k++)
                _packedDense[((k / 4) * opad + o) * 4 + k % 4] = Weight[o * depth + k];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override unsafe void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits)
    {
        byte[] x = s.Values[Inputs[0]];
        int[] acc = s.Accumulators;
        fixed (byte* px = x) fixed (int* pa = acc)
        {
            if (kernel == Int8Kernel.AvxVnni)
            {
                if (Conv)
                {
                    fixed (byte* padded = s.Padded) fixed (byte* col = s.Columns) fixed (int* w = _packedConv)
                    {
                        Stage(px, padded);
                        Columns(padded, col);
                        Int8Kernels.ConvVnni(col, w, pa, Oq, Quads, PositionsPadded);
                    }
                }
                else
                {
                    fixed (sbyte* w = _packedDense) Int8Kernels.DenseVnni(px, w, pa, Opad, (Depth + 3) / 4);
                }
            }
            else if (Conv)
            {
                ConvScalar(px, pa);
            }
            else
            {
                fixed (sbyte* w = Weight) Int8Kernels.DenseScalar(px, w, pa, O, Depth);
            }
        }
        Epilogue(acc, s.Pooled, s.Values[Output], logits);
    }

    // Direct convolution over the unpadded input, padding read as the zero point: the reference the
    // vector path is tested against.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void ConvScalar(byte* x, int* acc)
    {
        int depth = Depth, stride = PositionsPadded;
        fixed (sbyte* weight = Weight)
        for (int o = 0; o < O; o++)
        for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
        {
            int sum = 0;
            sbyte* w = weight + o * depth;
            for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
            {
                int iy = oy * S + ky - P;
                for (int kx = 0; kx < K; kx++)
                {
                    int ix = ox * S + kx - P;
                    int q = (uint)iy < (uint)H && (uint)ix < (uint)W ? x[(c * H + iy) * W + ix] : _zeroPoint;
                    sum += q * w[(c * K + ky) * K + kx];
                }
            }
            acc[o * stride + oy * OW + ox] = sum;
        }
    }

    // The input planes with the padding filled with the zero point.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Stage(byte* x, byte* padded)
    {
        int hp = Hp, wp = Wp;
        if (P > 0) new Span<byte>(padded, C * hp * wp).Fill((byte)_zeroPoint);
        for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            new ReadOnlySpan<byte>(x + (c * H + y) * W, W).CopyTo(new Span<byte>(padded + (c * hp + y + P) * wp + P, W));
    }

    // im2col for the dot-product kernel: for quad q = (c, ky, h) and output position p, the 4 bytes
    // input[c][p.y·S + ky][p.x·S + 4h .. 4h + 3] at col[(q·Ppad + p)·4]. Kernel columns past K read
    // whatever follows (their weights are zero).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Columns(byte* padded, byte* col)
    {
        int rq = RowQuads, ppad = PositionsPadded, hp = Hp, wp = Wp;
        bool shuffle = Ssse3.IsSupported && S <= 4;
        Vector128<byte> index = default;
        if (shuffle)
        {
            Span<byte> idx = stackalloc byte[16];
            for (int p = 0; p < 4; p++) for (int j = 0; j < 4; j++) idx[p * 4 + j] = (byte)(p * S + j);
            index = Vector128.Create((ReadOnlySpan<byte>)idx);
        }
        for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++)
        for (int h = 0; h < rq; h++)
        {
            int q = (c * K + ky) * rq + h;
            for (int oy = 0; oy < OH; oy++)
            {
                byte* src = padded + (c * hp + oy * S + ky) * wp + 4 * h;
                byte* dst = col + ((long)q * ppad + oy * OW) * 4;
                if (shuffle)
                {
                    // Four positions per shuffle; the last may write up to three positions past the row,
                    // which the next row (or quad) overwrites, or the buffer's slack takes.
                    for (int ox = 0; ox < OW; ox += 4)
                        Ssse3.Shuffle(Vector128.Load(src + ox * S), index).Store(dst + ox * 4);
                }
                else
                {
                    for (int ox = 0; ox < OW; ox++)
                        for (int j = 0; j < 4; j++) dst[ox * 4 + j] = src[ox * S + j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Epilogue(int[] acc, int[] pooled, byte[] output, Span<float> logits)
    {
        int stride = PositionsPadded;
        for (int o = 0; o < O; o++)
        {
            int correction = _correction[o];
            ReadOnlySpan<int> table = _tables.AsSpan(o * 256, 256);
            int rowBase = o * stride;
            for (int py = 0; py < PH; py++)
            for (int px = 0; px < PW; px++)
            {
                int m;
                if (PoolK == 0)
                {
                    m = acc[rowBase + py * OW + px];
                }
                else
                {
                    m = int.MinValue;
                    int start = rowBase + py * PoolS * OW + px * PoolS;
                    for (int dy = 0; dy < PoolK; dy++)
                    for (int dx = 0; dx < PoolK; dx++)
                        m = Math.Max(m, acc[start + dy * OW + dx]);
                }
                int v = m + correction;
                int at = (o * PH + py) * PW + px;
                if (Final) logits[at] = (float)Int8Math.Activate(Act, Slope, v * _multiplier[o]);
                else pooled[at] = v;
            }
            if (!Final)
            {
                int first = o * PH * PW;
                Int8Math.Levels(table, pooled.AsSpan(first, PH * PW), output.AsSpan(first, PH * PW));
            }
        }
    }
}

/// <summary>An elementwise operation on uint8 codes as a 256-entry table per channel: an activation not
/// fused into a linear layer (SiLU, or one after an Add), or a batch norm that follows no linear layer
/// (y = x·A + B per channel).</summary>
internal sealed class LookupOp(string name, int input, int output, int channels, int channelSize, Activation act, double slope, float[]? scale, float[]? shift)
    : Int8Op(name, [input], output)
{
    public readonly int Channels = channels, ChannelSize = channelSize;
    public readonly Activation Act = act;
    public readonly double Slope = slope;
    public readonly float[]? A = scale, B = shift; // batch norm, folded: y = x·A + B
    private byte[] _table = [];

    private double Apply(int channel, double x) => A is null ? Int8Math.Activate(Act, Slope, x) : x * A[channel] + B![channel];

    public override void RunFloat(float[][] values)
    {
        float[] x = values[Inputs[0]], y = values[Output];
        for (int i = 0; i < x.Length; i++) y[i] = (float)Apply(i / ChannelSize, x[i]);
    }

    public override void Prepare(QValue[] values)
    {
        QValue input = values[Inputs[0]], output = values[Output];
        int tables = A is null ? 1 : Channels;
        _table = new byte[tables * 256];
        for (int c = 0; c < tables; c++)
            for (int q = 0; q < 256; q++)
                _table[c * 256 + q] = Int8Math.Quantize(Apply(c, Int8Math.Dequantize(q, input.Scale, input.ZeroPoint)), output.Scale, output.ZeroPoint);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits)
    {
        byte[] x = s.Values[Inputs[0]], y = s.Values[Output];
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<byte> table = _table.AsSpan(A is null ? 0 : c * 256, 256);
            for (int i = c * ChannelSize, end = i + ChannelSize; i < end; i++) y[i] = table[x[i]];
        }
    }
}

/// <summary>MaxPool2D, AvgPool2D or GlobalAvgPool2D on uint8 codes, keeping the input's scale and zero
/// point: the max of the codes, or the mean of the codes rounded half to even.</summary>
internal sealed class PoolOp(string name, int input, int output, bool max, int[] shape, int kernelH, int kernelW, int stride)
    : Int8Op(name, [input], output)
{
    public readonly bool Max = max;
    public readonly int C = shape[0], H = shape[1], W = shape[2], KH = kernelH, KW = kernelW, S = stride;
    public int OH => (H - KH) / S + 1;
    public int OW => (W - KW) / S + 1;

    public override void RunFloat(float[][] values) => Pool(values[Inputs[0]], values[Output]);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits)
    {
        byte[] x = s.Values[Inputs[0]], y = s.Values[Output];
        int oh = OH, ow = OW, n = KH * KW;
        for (int c = 0; c < C; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int m = 0, sum = 0;
            for (int dy = 0; dy < KH; dy++)
            for (int dx = 0; dx < KW; dx++)
            {
                int q = x[(c * H + oy * S + dy) * W + ox * S + dx];
                m = Math.Max(m, q);
                sum += q;
            }
            y[(c * oh + oy) * ow + ox] = Max ? (byte)m : (byte)Math.Round((double)sum / n, MidpointRounding.ToEven);
        }
    }

    private void Pool(float[] x, float[] y)
    {
        int oh = OH, ow = OW;
        for (int c = 0; c < C; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            float m = float.NegativeInfinity;
            double sum = 0;
            for (int dy = 0; dy < KH; dy++)
            for (int dx = 0; dx < KW; dx++)
            {
                float v = x[(c * H + oy * S + dy) * W + ox * S + dx];
                m = Math.Max(m, v);
                sum += v;
            }
            y[(c * oh + oy) * ow + ox] = Max ? m : (float)(sum / (KH * KW));
        }
    }
}

/// <summary>The residual Add: the real sum of two values, requantized to the output's scale.</summary>
internal sealed class AddOp(string name, int main, int shortcut, int output) : Int8Op(name, [main, shortcut], output)
{
    private float _sa, _sb, _so;
    private int _za, _zb, _zo;

    public override void RunFloat(float[][] values)
    {
        float[] a = values[Inputs[0]], b = values[Inputs[1]], y = values[Output];
        for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
    }

    public override void Prepare(QValue[] values)
    {
        (_sa, _za) = (values[Inputs[0]].Scale, values[Inputs[0]].ZeroPoint);
        (_sb, _zb) = (values[Inputs[1]].Scale, values[Inputs[1]].ZeroPoint);
        (_so, _zo) = (values[Output].Scale, values[Output].ZeroPoint);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits)
    {
        byte[] a = s.Values[Inputs[0]], b = s.Values[Inputs[1]], y = s.Values[Output];
        int n = y.Length - Int8Scratch.Slack;
        for (int i = 0; i < n; i++)
            y[i] = Int8Math.Quantize(Int8Math.Dequantize(a[i], _sa, _za) + Int8Math.Dequantize(b[i], _sb, _zb), _so, _zo);
    }
}
