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

/// <summary>One worker's buffers for a tile of <see cref="Int8Kernels.Lanes"/> samples: a uint8 buffer per
/// value, sample-innermost (byte k of sample i at k·8 + i), the staged input of a linear operation and its
/// accumulators. Sized at construction; inference allocates nothing.</summary>
internal sealed class Int8Scratch
{
    // Vector loads and stores may run up to this many bytes past the end of a buffer.
    public const int Slack = 64;
    public readonly byte[][] Values;
    public readonly byte[] Staged;
    public readonly int[] Accumulators;

    public Int8Scratch(QValue[] values, Int8Op[] ops)
    {
        Values = new byte[values.Length][];
        for (int i = 0; i < values.Length; i++) Values[i] = new byte[values[i].Size * Int8Kernels.Lanes + Slack];
        int staged = 0, accumulators = 0;
        foreach (var op in ops)
        {
            if (op is not LinearOp l) continue;
            staged = Math.Max(staged, l.StagedBytes);
            accumulators = Math.Max(accumulators, l.AccumulatorCount);
        }
        Staged = new byte[staged + Slack];
        Accumulators = new int[accumulators + Slack];
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

    /// <summary>One tile of samples: reads the input values' codes and writes the output's (or, for a final
    /// linear operation, the logits of the first <paramref name="count"/> samples, sample-major).</summary>
    public abstract void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits, int count);
}

/// <summary>A Conv2D or Dense with its batch norm folded in, an activation and (conv) a max-pool fused:
/// int8 weights (symmetric, per output channel), an int32 bias in units of input scale × weight scale, uint8
/// activations with a zero point. The dot products are exact int32 sums; each (max-pooled) accumulator plus
/// its correction becomes its output code on the layer's requantization grid (<see cref="Int8Math.Grid"/>,
/// <see cref="Int8Math.Requantize"/>): x = float(acc)·(input scale × weight scale / step), clamped, rounded
/// half to even, looked up. The final layer of a network writes f(accumulator × scales) as float logits instead.
/// A Dense runs as a 1×1 convolution of a 1×1 image with one channel per feature.</summary>
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
    // Derived: bias minus zero point × weight sum; the requantization grid and per-channel ratios; logit
    // multipliers; the staged layout (quad and position offsets) and the packed weights.
    private int[] _correction = [];
    private float[] _ratio = [];
    private double[] _multiplier = [];
    public double GridStep { get; private set; }
    public int GridLo { get; private set; }
    public int GridHi { get; private set; }
    private byte[] _codes = [];
    private int[] _quad = [];     // byte offset of each weight quad's group relative to a position
    private int[] _position = []; // byte offset of each output position in the staged input
    private int[] _packed = [];   // [O/Block][quads][Block] four int8 in an int
    private readonly byte[] _zeroRow = new byte[Int8Kernels.Lanes]; // the input zero point for 8 samples
    private int _zeroPoint;

    public int Depth => Conv ? C * K * K : C;          // weights per output
    private int Positions => OH * OW;
    // The staged input: per padded pixel, G groups of 4 bytes × 8 samples. By channel: group g holds channels
    // 4g..4g+3 (a quad per kernel tap and group); else group c holds 4 consecutive columns of channel c (a
    // quad per channel, kernel row and 4 kernel columns), better when channels are few (the first layer).
    private bool ByChannel => !Conv || K * K * ((C + 3) / 4) <= C * K * ((K + 3) / 4);
    private int G => ByChannel ? (C + 3) / 4 : C;
    private int Quads => ByChannel ? K * K * G : C * K * ((K + 3) / 4);
    private int Hp => H + 2 * P;
    private int Wp => W + 2 * P;
    private int Block => Conv ? 2 : 8; // output channels per kernel block
    private int Opad => (O + Block - 1) / Block * Block;
    // Output rows per band (the accumulators of a band are computed, then requantized, while they are in
    // the L1 cache): as many as keep the band's accumulators within 32 KB, at least one.
    private int PoolRows => PoolK > 0 ? PoolK : 1;
    private int PoolStride => PoolK > 0 ? PoolS : 1;
    private int BandRows
    {
        get
        {
            int rows = PH;
            while (rows > 1 && Opad * PositionsOf(rows) * Int8Kernels.Lanes * 4 > 32 << 10) rows--;
            return rows;
        }
    }
    private int PositionsOf(int rows) => ((rows - 1) * PoolStride + PoolRows) * OW;
    private int BandPositions => PositionsOf(BandRows);
    public int StagedBytes => Hp * Wp * G * 32;
    public int AccumulatorCount => Opad * BandPositions * Int8Kernels.Lanes;

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
        Array.Fill(_zeroRow, (byte)_zeroPoint);
        _correction = new int[O];
        _multiplier = new double[O];
        _ratio = new float[O];
        if (!Final)
        {
            (GridStep, GridLo, GridHi, _codes) = Int8Math.Grid(Act, Slope, output.Scale, output.ZeroPoint);
        }
        for (int o = 0; o < O; o++)
        {
            int sum = 0;
            for (int k = 0; k < depth; k++) sum += Weight[o * depth + k];
            _correction[o] = Bias[o] - input.ZeroPoint * sum;
            _multiplier[o] = (double)input.Scale * WeightScale[o];
            if (Final) continue;
            _ratio[o] = (float)(_multiplier[o] / GridStep);
            if (!float.IsFinite(_ratio[o]))
                throw new InvalidOperationException($"layer {Name}: output channel {o}'s scales (input {input.Scale}, weight {WeightScale[o]}, output {output.Scale}) overflow float32");
        }
        Pack();
    }

    // The quads (offset of the group, the 4 weight indices in a row of Weight, −1 for none), the positions,
    // and the weights packed for the kernel blocks.
    private void Pack()
    {
        int g = G, wp = Wp, quads = Quads, depth = Depth;
        _quad = new int[quads];
        var taps = new int[quads * 4];
        int q = 0;
        if (ByChannel)
        {
            for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++)
            for (int gi = 0; gi < g; gi++, q++)
            {
                _quad[q] = ((ky * wp + kx) * g + gi) * 32;
                for (int j = 0; j < 4; j++) taps[q * 4 + j] = 4 * gi + j < C ? ((4 * gi + j) * K + ky) * K + kx : -1;
            }
        }
        else
        {
            for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
            for (int h = 0; 4 * h < K; h++, q++)
            {
                _quad[q] = ((ky * wp + 4 * h) * g + c) * 32;
                for (int j = 0; j < 4; j++) taps[q * 4 + j] = 4 * h + j < K ? (c * K + ky) * K + 4 * h + j : -1;
            }
        }
        _position = new int[OH * OW];
        for (int p = 0; p < _position.Length; p++) _position[p] = ((p / OW * S * wp + p % OW * S) * g) * 32;
        int block = Block;
        _packed = new int[Opad * quads];
        for (int o = 0; o < O; o++)
        for (q = 0; q < quads; q++)
        {
            int word = 0;
            for (int j = 0; j < 4; j++)
            {
                int t = taps[q * 4 + j];
                word |= (byte)(t < 0 ? 0 : Weight[o * depth + t]) << (8 * j);
            }
            _packed[(o / block * quads + q) * block + o % block] = word;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override unsafe void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits, int count)
    {
        bool vnni = kernel == Int8Kernel.AvxVnni;
        byte[] output = s.Values[Output];
        fixed (byte* x = s.Values[Inputs[0]]) fixed (byte* staged = s.Staged) fixed (int* acc = s.Accumulators)
        fixed (int* quad = _quad) fixed (int* position = _position) fixed (int* w = _packed)
        {
            if (vnni) Stage(x, staged);
            int bandRows = BandRows;
            for (int py0 = 0; py0 < PH; py0 += bandRows)
            {
                int py1 = Math.Min(PH, py0 + bandRows);
                int r0 = py0 * PoolStride, positions = ((py1 - 1) * PoolStride + PoolRows - r0) * OW;
                if (!vnni) AccumulateScalar(x, acc, r0 * OW, positions);
                else if (Conv) Int8Kernels.ConvVnni(staged, position + r0 * OW, positions, quad, Quads, w, Opad, acc);
                else Int8Kernels.DenseVnni(staged, Quads, w, Opad, acc);
                if (Final) Logits(acc, r0, positions, py0, py1, logits, count);
                else Epilogue(acc, r0, positions, py0, py1, output, vnni);
            }
        }
    }

    // The input staged for the vector kernels: per padded pixel, G groups of 4 bytes × 8 samples (see
    // ByChannel); padding reads the zero point, and bytes whose weights are zero (channels past C, columns
    // past the row) read the zero point too.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Stage(byte* x, byte* staged)
    {
        const int lanes = Int8Kernels.Lanes;
        int hp = Hp, wp = Wp, g = G, full = ByChannel ? C / 4 : C; // groups with no channel past C
        bool byChannel = ByChannel;
        int plane = H * W * lanes;
        var zeroGroup = Vector256.Create((byte)_zeroPoint);
        fixed (byte* zero = _zeroRow)
        {
            byte* dst = staged;
            for (int yp = 0; yp < hp; yp++)
            {
                int y = yp - P;
                if ((uint)y >= (uint)H)
                {
                    for (int i = 0; i < wp * g; i++, dst += 32) zeroGroup.Store(dst);
                    continue;
                }
                for (int xp = 0; xp < wp; xp++)
                {
                    int col = xp - P;
                    bool inside = byChannel ? (uint)col < (uint)W : col >= 0 && col + 3 < W;
                    byte* at = x + (y * W + col) * lanes;
                    for (int gi = 0; gi < g; gi++, dst += 32)
                    {
                        if (inside && gi < full)
                        {
                            // Four channels at one pixel (a plane apart), or four columns of one channel.
                            byte* r = at + (byChannel ? 4 * gi : gi) * plane;
                            int step = byChannel ? plane : lanes;
                            Int8Kernels.Group(r, r + step, r + 2 * step, r + 3 * step, dst);
                        }
                        else if (byChannel)
                            Int8Kernels.Group(Row(x, zero, 4 * gi, y, col), Row(x, zero, 4 * gi + 1, y, col), Row(x, zero, 4 * gi + 2, y, col), Row(x, zero, 4 * gi + 3, y, col), dst);
                        else
                            Int8Kernels.Group(Row(x, zero, gi, y, col), Row(x, zero, gi, y, col + 1), Row(x, zero, gi, y, col + 2), Row(x, zero, gi, y, col + 3), dst);
                    }
                }
            }
        }
    }

    // The 8 codes of channel c at (y, col), or the zero point's outside the input.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe byte* Row(byte* x, byte* zero, int c, int y, int col) =>
        c < C && (uint)y < (uint)H && (uint)col < (uint)W ? x + ((c * H + y) * W + col) * Int8Kernels.Lanes : zero;

    // Direct convolution (or dense product) of each sample of the tile, padding read as the zero point,
    // for positions [first, first + positions): the accumulators the vector kernels are tested against.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void AccumulateScalar(byte* x, int* acc, int first, int positions)
    {
        const int lanes = Int8Kernels.Lanes;
        int depth = Depth;
        int* sum = stackalloc int[lanes];
        fixed (sbyte* weight = Weight)
        for (int o = 0; o < O; o++)
        for (int p = 0; p < positions; p++)
        {
            int oy = (first + p) / OW, ox = (first + p) % OW;
            for (int i = 0; i < lanes; i++) sum[i] = 0;
            sbyte* w = weight + o * depth;
            for (int c = 0; c < C; c++)
            for (int ky = 0; ky < K; ky++)
            {
                int iy = oy * S + ky - P;
                for (int kx = 0; kx < K; kx++)
                {
                    int ix = ox * S + kx - P, wk = w[(c * K + ky) * K + kx];
                    if ((uint)iy < (uint)H && (uint)ix < (uint)W)
                    {
                        byte* q = x + ((c * H + iy) * W + ix) * lanes;
                        for (int i = 0; i < lanes; i++) sum[i] += q[i] * wk;
                    }
                    else
                    {
                        for (int i = 0; i < lanes; i++) sum[i] += _zeroPoint * wk;
                    }
                }
            }
            for (int i = 0; i < lanes; i++) acc[(o * positions + p) * lanes + i] = sum[i];
        }
    }

    // The max over the pooling window (k × k, or 1) of the band's accumulators at row, OW positions a row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> WindowMax(int* row, int k, int ow)
    {
        const int lanes = Int8Kernels.Lanes;
        if (k == 1) return Vector256.Load(row);
        if (k == 2)
            return Vector256.Max(Vector256.Max(Vector256.Load(row), Vector256.Load(row + lanes)),
                Vector256.Max(Vector256.Load(row + ow * lanes), Vector256.Load(row + (ow + 1) * lanes)));
        Vector256<int> m = Vector256.Load(row);
        for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++)
            m = Vector256.Max(m, Vector256.Load(row + (dy * ow + dx) * lanes));
        return m;
    }

    // Requantizes the band's output rows [py0, py1) (accumulator rows from r0) into the output value: the
    // vector epilogue, or the same float32 arithmetic per sample.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Epilogue(int* acc, int r0, int positions, int py0, int py1, byte[] output, bool vector)
    {
        const int lanes = Int8Kernels.Lanes;
        int k = PoolRows, ps = PoolStride, ow = OW, pw = PW, ph = PH, gridLo = GridLo, gridHi = GridHi;
        var lo = Vector256.Create((float)gridLo);
        var hi = Vector256.Create((float)gridHi);
        fixed (byte* y = output) fixed (byte* codes = _codes)
        for (int o = 0; o < O; o++)
        {
            int correction = _correction[o];
            float ratio = _ratio[o];
            var correctionV = Vector256.Create(correction);
            var ratioV = Vector256.Create(ratio);
            for (int py = py0; py < py1; py++)
            {
                int* row = acc + (o * positions + (py * ps - r0) * ow) * lanes;
                byte* dst = y + (o * ph + py) * pw * lanes;
                for (int px = 0; px < pw; px++, row += ps * lanes, dst += lanes)
                {
                    Vector256<int> m = WindowMax(row, k, ow);
                    if (vector)
                        Int8Kernels.Requantize(m, correctionV, ratioV, lo, hi, codes - gridLo, dst);
                    else
                        for (int i = 0; i < lanes; i++) dst[i] = Int8Math.Requantize(m.GetElement(i) + correction, ratio, gridLo, gridHi, _codes);
                }
            }
        }
    }

    // The final layer: f(accumulator × scales) as float logits of the first count samples.
    private unsafe void Logits(int* acc, int r0, int positions, int py0, int py1, Span<float> logits, int count)
    {
        int classes = O * PH * PW;
        for (int o = 0; o < O; o++)
        for (int py = py0; py < py1; py++)
        for (int px = 0; px < PW; px++)
        {
            Vector256<int> m = WindowMax(acc + (o * positions + (py * PoolStride - r0) * OW + px * PoolStride) * Int8Kernels.Lanes, PoolRows, OW);
            for (int i = 0; i < count; i++)
                logits[i * classes + (o * PH + py) * PW + px] = (float)Int8Math.Activate(Act, Slope, (m.GetElement(i) + _correction[o]) * _multiplier[o]);
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
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits, int count)
    {
        byte[] x = s.Values[Inputs[0]], y = s.Values[Output];
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<byte> table = _table.AsSpan(A is null ? 0 : c * 256, 256);
            int lanes = Int8Kernels.Lanes;
            for (int i = c * ChannelSize * lanes, end = i + ChannelSize * lanes; i < end; i++) y[i] = table[x[i]];
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
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits, int count)
    {
        byte[] x = s.Values[Inputs[0]], y = s.Values[Output];
        int oh = OH, ow = OW, n = KH * KW, lanes = Int8Kernels.Lanes;
        for (int c = 0; c < C; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int i = 0; i < lanes; i++)
        {
            int m = 0, sum = 0;
            for (int dy = 0; dy < KH; dy++)
            for (int dx = 0; dx < KW; dx++)
            {
                int q = x[((c * H + oy * S + dy) * W + ox * S + dx) * lanes + i];
                m = Math.Max(m, q);
                sum += q;
            }
            y[((c * oh + oy) * ow + ox) * lanes + i] = Max ? (byte)m : (byte)Math.Round((double)sum / n, MidpointRounding.ToEven);
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
    public override void Run(Int8Scratch s, Int8Kernel kernel, Span<float> logits, int count)
    {
        byte[] a = s.Values[Inputs[0]], b = s.Values[Inputs[1]], y = s.Values[Output];
        int n = y.Length - Int8Scratch.Slack;
        for (int i = 0; i < n; i++)
            y[i] = Int8Math.Quantize(Int8Math.Dequantize(a[i], _sa, _za) + Int8Math.Dequantize(b[i], _sb, _zb), _so, _zo);
    }
}
