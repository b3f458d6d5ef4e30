using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using System.Text;
using GraphGen.Execution;

namespace GraphGen.Quantization;

/// <summary>Which int8 dot-product kernels a <see cref="QuantizedNetwork"/> runs. All give the same bytes.</summary>
public enum Int8Kernel
{
    /// <summary><see cref="AvxVnni"/> where the processor has it, else <see cref="Scalar"/>.</summary>
    Auto = 0,
    /// <summary>Plain loops: direct convolution, one multiply-add per weight, and the requantization one
    /// value at a time.</summary>
    Scalar = 1,
    /// <summary>AVX-VNNI vpdpbusd (uint8 × int8 → int32, 8 lanes of 4 products) with 8 samples in the lanes,
    /// and a vectorized requantization (AVX2). .NET 10 exposes no 512-bit form of this instruction (there is
    /// no Avx512Vnni class), so this is the widest.</summary>
    AvxVnni = 2,
}

/// <summary>How a <see cref="QuantizedNetwork"/> runs.</summary>
public sealed class Int8Options
{
    /// <summary>Threads per inference call, the caller's included (1 to 1024). Default: all processors.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>The kernels; <see cref="Int8Kernel.Auto"/> picks the fastest this processor runs.</summary>
    public Int8Kernel Kernel { get; init; } = Int8Kernel.Auto;
}

/// <summary>
/// A network quantized to int8 by <see cref="Quantizer"/> for inference: int8 weights per output channel,
/// int32 biases, uint8 activations. Any number of threads may call <see cref="Infer(ReadOnlySpan{byte}, Span{float})"/>;
/// calls run one at a time, each spread over <see cref="Threads"/> threads by tiles of 8 samples. After construction an
/// inference call allocates nothing. The results do not depend on the thread count or the kernel.
/// </summary>
public sealed partial class QuantizedNetwork : IDisposable
{
    internal readonly QValue[] Values;
    internal readonly Int8Op[] Ops;
    private readonly byte[] _byteInput = new byte[256]; // pixel byte → input code
    private readonly bool _pixelsAreCodes;              // _byteInput is the identity (scale 1/255, zero point 0)
    private readonly byte[] _zeroInput;                 // a sample of zero pixels
    private readonly Int8Scratch[] _scratch;
    private readonly WorkerPool _pool;
    private readonly WorkItem _body;
    private readonly object _gate = new();
    private unsafe byte* _pixels;
    private unsafe float* _floats;
    private unsafe float* _logits;
    private int _samples, _tiles, _items;
    private bool _disposed;

    /// <summary>AVX-VNNI is used from .NET 9 on (on .NET 8 it is a preview API, so the scalar kernels run).</summary>
#if NET9_0_OR_GREATER
    internal static bool VnniSupported => AvxVnni.IsSupported;
#else
    internal static bool VnniSupported => false;
#endif

    internal QuantizedNetwork(string name, QValue[] values, Int8Op[] ops, Int8Options? options)
    {
        options ??= new Int8Options();
        if (options.Threads is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Int8Options.Threads must be between 1 and 1024");
        Kernel = options.Kernel switch
        {
            Int8Kernel.Auto => VnniSupported ? Int8Kernel.AvxVnni : Int8Kernel.Scalar,
            Int8Kernel.AvxVnni when !VnniSupported => throw new PlatformNotSupportedException("this processor has no AVX-VNNI; use Int8Kernel.Scalar or Auto"),
            Int8Kernel.Scalar or Int8Kernel.AvxVnni => options.Kernel,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kernel, "unknown Int8Kernel"),
        };
        Name = name;
        Values = values;
        Ops = ops;
        InputShape = values[0].Shape;
        InputSize = values[0].Size;
        Classes = ops[^1] is LinearOp { Final: true } l ? QValue.Product(l.OutputShape) : values[ops[^1].Output].Size;
        for (int b = 0; b < 256; b++) _byteInput[b] = Int8Math.Quantize(b / 255.0, values[0].Scale, values[0].ZeroPoint);
        _pixelsAreCodes = true;
        for (int b = 0; b < 256; b++) _pixelsAreCodes &= _byteInput[b] == b;
        _zeroInput = new byte[InputSize];
        Threads = Math.Min(options.Threads, Environment.ProcessorCount);
        _scratch = new Int8Scratch[Threads];
        for (int i = 0; i < Threads; i++) _scratch[i] = new Int8Scratch(values, ops);
        _pool = new WorkerPool(Threads);
        _body = RunItem;
    }

    /// <summary>The float network's class name.</summary>
    public string Name { get; }
    /// <summary>Shape of one sample: [C, H, W] or [features].</summary>
    public IReadOnlyList<int> InputShape { get; }
    /// <summary>Values per sample.</summary>
    public int InputSize { get; }
    /// <summary>Logits per sample.</summary>
    public int Classes { get; }
    /// <summary>Threads per call (at most the processor count).</summary>
    public int Threads { get; }
    /// <summary>The kernels in use.</summary>
    public Int8Kernel Kernel { get; }

    /// <summary>The same quantized network run with other options (kernel, threads); the parameters are shared.</summary>
    public QuantizedNetwork With(Int8Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new QuantizedNetwork(Name, Values, Ops, options);
    }

    /// <summary>Logits for any number of samples of byte pixels (each divided by 255, as <see cref="INetwork.Infer(ReadOnlySpan{byte}, Span{float})"/>).</summary>
    /// <exception cref="ArgumentException">The lengths are not a whole number of samples, or disagree.</exception>
    public unsafe void Infer(ReadOnlySpan<byte> pixels, Span<float> logits)
    {
        int n = Samples(pixels.Length, logits.Length);
        fixed (byte* p = pixels) fixed (float* l = logits) Run(p, null, l, n);
    }

    /// <summary>Logits for any number of samples of float inputs.</summary>
    /// <exception cref="ArgumentException">The lengths are not a whole number of samples, or disagree.</exception>
    public unsafe void Infer(ReadOnlySpan<float> inputs, Span<float> logits)
    {
        int n = Samples(inputs.Length, logits.Length);
        fixed (float* p = inputs) fixed (float* l = logits) Run(null, p, l, n);
    }

    private int Samples(int inputs, int logits)
    {
        if (inputs % InputSize != 0)
            throw new ArgumentException($"{Name} (int8): the input holds {inputs} values, not a whole number of {InputSize}-value samples", nameof(inputs));
        int n = inputs / InputSize;
        if (logits != (long)n * Classes)
            throw new ArgumentException($"{Name} (int8): {n} samples need {(long)n * Classes} logits, the output span holds {logits}", nameof(logits));
        return n;
    }

    private unsafe void Run(byte* pixels, float* floats, float* logits, int n)
    {
        if (n == 0) return;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _pixels = pixels; _floats = floats; _logits = logits; _samples = n;
            // A fixed partition: item i takes tiles [tiles·i/items, tiles·(i+1)/items), whichever thread runs it.
            _tiles = (n + Int8Kernels.Lanes - 1) / Int8Kernels.Lanes;
            _items = Math.Min(_tiles, Threads * 4);
            try { _pool.Run(_items, _body); }
            finally { _pixels = null; _floats = null; _logits = null; }
        }
    }

    // Tiles of 8 samples, each value stored sample-innermost; the samples past the end of the last tile
    // are the input zero point, and their logits are not written.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private unsafe void RunItem(int item, int worker)
    {
        const int lanes = Int8Kernels.Lanes;
        Int8Scratch s = _scratch[worker];
        int first = (int)((long)_tiles * item / _items), end = (int)((long)_tiles * (item + 1) / _items);
        byte[] input = s.Values[0];
        QValue x = Values[0];
        byte** rows = stackalloc byte*[lanes];
        for (int tile = first; tile < end; tile++)
        {
            int sample = tile * lanes, count = Math.Min(lanes, _samples - sample);
            if (_pixels is not null && _pixelsAreCodes)
            {
                // The pixels are the codes (and 0 is the zero point): interleave them as they are.
                fixed (byte* zero = _zeroInput) fixed (byte* dst = input)
                {
                    for (int i = 0; i < lanes; i++) rows[i] = i < count ? _pixels + (long)(sample + i) * InputSize : zero;
                    Int8Kernels.Interleave(rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7], InputSize, dst);
                }
            }
            else for (int i = 0; i < lanes; i++)
            {
                long offset = (long)(sample + i) * InputSize;
                if (i >= count)
                    for (int k = 0; k < InputSize; k++) input[k * lanes + i] = (byte)x.ZeroPoint;
                else if (_pixels is not null)
                    for (int k = 0; k < InputSize; k++) input[k * lanes + i] = _byteInput[_pixels[offset + k]];
                else
                    for (int k = 0; k < InputSize; k++) input[k * lanes + i] = Int8Math.Quantize(_floats[offset + k], x.Scale, x.ZeroPoint);
            }
            var logits = new Span<float>(_logits + (long)sample * Classes, count * Classes);
            foreach (Int8Op op in Ops) op.Run(s, Kernel, op is LinearOp { Final: true } ? logits : default, count);
            if (Ops[^1] is not LinearOp { Final: true })
            {
                QValue y = Values[Ops[^1].Output];
                byte[] codes = s.Values[Ops[^1].Output];
                for (int i = 0; i < count; i++)
                    for (int k = 0; k < Classes; k++) logits[i * Classes + k] = (float)Int8Math.Dequantize(codes[k * lanes + i], y.Scale, y.ZeroPoint);
            }
        }
    }

    /// <summary>The operations, one a line: the layers each covers, its output shape and quantization.</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        text.Append($"{Name} int8, {Kernel} kernels, {Threads} thread(s); input [{string.Join(", ", InputShape)}] scale {Values[0].Scale:G6} zero point {Values[0].ZeroPoint}\n");
        foreach (Int8Op op in Ops)
        {
            QValue y = Values[op.Output];
            string output = op is LinearOp { Final: true } ? "float logits" : $"scale {y.Scale:G6} zero point {y.ZeroPoint}";
            text.Append($"  {op.GetType().Name[..^2],-7} {op.Name,-40} [{string.Join(", ", y.Shape)}] {output}\n");
        }
        return text.ToString();
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _pool.Dispose();
        }
    }
}
