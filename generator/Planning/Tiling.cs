using System;

namespace GraphGen.Generator.Planning;

/// <summary>
/// Register tiling of the convolution kernels for a register file of <c>registers</c> vectors
/// (16 with AVX2 or SSE, 32 with AVX-512). Every accumulator, every hoisted weight and one loaded
/// value must fit, with one register to spare, or the JIT spills inside the innermost code.
/// </summary>
internal readonly record struct ConvTiles(int Channels, int Width)
{
    /// <summary>Forward: Channels output channels × Width output columns of one output row, with the
    /// Channels × K weights of one (input channel, kernel row) in registers.</summary>
    public static ConvTiles Forward(int registers, int outChannels, int outWidth, int kernel)
    {
        int channels = registers >= 32 && outChannels >= 2 ? 2 : 1;
        int width = (registers - 2 - channels * kernel) / channels;
        return new ConvTiles(channels, Even(outWidth, width));
    }

    /// <summary>Weight gradient: Channels output channels × Width kernel columns of accumulators, one
    /// dz value per channel and one input value live at a time.</summary>
    public static ConvTiles Weights(int registers, int outChannels, int kernel)
    {
        int width = Math.Min(kernel, registers - 4);
        int channels = Math.Max(1, Math.Min(Math.Min(outChannels, 4), (registers - 2) / (width + 1)));
        return new ConvTiles(channels, width);
    }

    /// <summary>Input gradient: one input channel × Width input columns of one input row, with the K
    /// weights of one (output channel, kernel row) in registers. Each column receives up to K
    /// dependent FMAs per (output channel, kernel row), so with few columns the kernel waits on FMA
    /// latency: with 16 registers each column gets two accumulators (even and odd kernel columns),
    /// which halves the chains (Split = 2); with 32 registers the tile is simply wide.</summary>
    public static ConvTiles InputGradient(int registers, int inWidth, int kernel)
    {
        int split = registers >= 32 ? 1 : 2;
        int width = (registers - 2 - kernel) / split;
        return new ConvTiles(1, Even(inWidth, width)) { Split = split };
    }

    /// <summary>Accumulators per output column (see <see cref="InputGradient"/>).</summary>
    public int Split { get; init; } = 1;

    /// <summary>True when the tiling leaves room for at least two columns: otherwise the kernel is too
    /// wide to keep its weights in registers and the general loop kernel is used.</summary>
    public bool Usable => Width >= 2;

    /// <summary>The largest tile ≤ max that splits n into equal parts (n = 24, max = 9 → 8).</summary>
    private static int Even(int n, int max)
    {
        if (max < 1) return 0;
        int parts = (n + max - 1) / max;
        return (n + parts - 1) / parts;
    }
}
