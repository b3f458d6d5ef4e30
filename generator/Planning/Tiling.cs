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

    /// <summary>Weight gradient: Channels output channels × <see cref="Inputs"/> input channels × Width kernel
    /// columns of accumulators (× <see cref="Split"/> interleaved sets over the output columns), with one dz value
    /// per output channel and one input value live at a time. Each accumulator is one dependent chain of FMAs, so
    /// fewer than <see cref="LatencyCover"/> leave the FMA units waiting on their latency: where the output
    /// channels and kernel columns give fewer (a 1×1 kernel: 4 chains; a depthwise 3×3: 3), the tile takes more
    /// input channels, then splits the sweep over output columns into interleaved sets, as registers allow.</summary>
    public static ConvTiles Weights(int registers, int outChannels, int inChannels, int kernel, int outWidth)
    {
        int width = Math.Min(kernel, registers - 4);
        int channels = Math.Max(1, Math.Min(Math.Min(outChannels, 4), (registers - 2) / (width + 1)));
        int room = registers - 2 - channels; // accumulators may use the rest: one register for the input value, one spare
        int inputs = 1;
        while (channels * inputs * width < LatencyCover && inputs < inChannels && channels * (inputs + 1) * width <= room) inputs++;
        int split = 1;
        while (channels * inputs * width * split < LatencyCover && split < 4 && split < outWidth && channels * inputs * width * (split + 1) <= room) split++;
        return new ConvTiles(channels, width) { Inputs = inputs, Split = split };
    }

    /// <summary>Independent accumulator chains that keep two FMA pipes busy through a 4-cycle latency, with a margin.</summary>
    public const int LatencyCover = 12;

    /// <summary>Input channels per weight-gradient tile (see <see cref="Weights"/>).</summary>
    public int Inputs { get; init; } = 1;

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

    /// <summary>Accumulators per output column (see <see cref="InputGradient"/>), or interleaved accumulator sets
    /// over the output columns (see <see cref="Weights"/>).</summary>
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
