using GraphGen.Generator.Model;

namespace GraphGen.Generator.Planning;

/// <summary>
/// The planner's choices for a convolution group's kernels, made once per register file (16 vector
/// registers for AVX2 and SSE, 32 for AVX-512): the register tiling of the forward, weight-gradient and
/// input-gradient kernels, whether each uses its row-tiled form or the general loop, and whether
/// inference fuses convolution, activation and pooling into one pass. The emitter prints what is chosen
/// here and decides nothing.
/// </summary>
internal sealed record KernelChoices(
    ConvTiles Forward16, ConvTiles Forward32, ConvTiles Weights16, ConvTiles Weights32,
    ConvTiles InputGradient16, ConvTiles InputGradient32, bool InputGradientRows16, bool InputGradientRows32,
    bool FusesInference)
{
    /// <summary>Largest OW·K for which the row-tiled input-gradient kernel is used: its body is unrolled
    /// over output columns and kernel columns, and beyond this the code grows too large to pay off.</summary>
    public const int MaxUnrolledInputGradient = 4096;

    /// <summary>Weight-gradient rows per work item of a dense layer (a dense weight gradient is split by
    /// output rows across threads; each row's sum over the batch is made by one thread in a fixed order).</summary>
    public const int DenseWeightRows = 4;

    public ConvTiles Forward(int registers) => registers >= 32 ? Forward32 : Forward16;
    public ConvTiles Weights(int registers) => registers >= 32 ? Weights32 : Weights16;
    public ConvTiles InputGradient(int registers) => registers >= 32 ? InputGradient32 : InputGradient16;
    public bool InputGradientRows(int registers) => registers >= 32 ? InputGradientRows32 : InputGradientRows16;

    /// <summary>The choices for <paramref name="g"/>; null for a group without a convolution.</summary>
    public static KernelChoices? For(Group g)
    {
        if (!g.IsConv) return null;
        var c = g.Producer!;
        // A grouped convolution runs one group at a time, so its tiles are sized for one group's filters;
        // the row tilings run along the kernel's width.
        int cout = c.GroupOutputs, ow = c.Output.W, k = c.KernelWidth, wp = c.PaddedInput.W;
        var f16 = ConvTiles.Forward(16, cout, ow, k);
        var f32 = ConvTiles.Forward(32, cout, ow, k);
        var i16 = ConvTiles.InputGradient(16, wp, k);
        var i32 = ConvTiles.InputGradient(32, wp, k);
        bool small = (long)ow * k <= MaxUnrolledInputGradient;
        // Inference runs conv + activation + pool as one pass when the pool's windows tile the output
        // exactly, no residual joins the epilogue, the convolution is not grouped (its kernel runs group by
        // group) and the forward row tiling fits both register files.
        bool fuses = g.Pool is not null && g.PoolTilesExactly && g.Residual is null && c.Groups == 1 && f16.Usable && f32.Usable;
        return new KernelChoices(f16, f32, ConvTiles.Weights(16, cout, c.GroupInputs, k, ow), ConvTiles.Weights(32, cout, c.GroupInputs, k, ow),
            i16, i32, i16.Usable && small, i32.Usable && small, fuses);
    }
}
