using System;

namespace GraphGen.Execution;

/// <summary>
/// The numerics of one batch-norm layer that are not per-element: merging the partial statistics
/// that the generated kernels accumulate inline, the moving-average update, and the per-channel
/// coefficients the fused kernels apply.
///
/// <para>Forward partials. The kernel that produces a chunk's values also accumulates, per channel,
/// a shift K (the chunk's first value of that channel) and, per lane, the sums S1 = Σ(x−K) and
/// S2 = Σ(x−K)². Because K is an actual sample, x−K is of the order of the standard deviation, so
/// the variance does not cancel catastrophically when the mean is large (1e4 ± 1 keeps 6 digits).
/// The chunks' sums are moved to one common shift in double precision and added in chunk order, so
/// the result does not depend on how many threads produced the partials.</para>
///
/// <para>Backward. The kernels accumulate R1 = Σ dy and R2 = Σ dy·(x − mean) (centred, again to avoid
/// cancellation), compensated per chunk and merged in double (see <see cref="MergeGradChunks"/>). Then dγ = R2·invstd, dβ = R1 and dx = a·dy + c1·(x − mean) + c2 with a = γ·invstd,
/// c1 = −a·invstd²·R2/M and c2 = −a·R1/M, M being the number of values per channel.</para>
///
/// <para>Divergence. The moving statistics are written in float from double batch statistics, so they
/// can overflow to ±∞ while every parameter and the loss stay finite (a huge learning rate blows up
/// the activations' variance). A step that leaves a moving statistic of a channel non-finite must
/// count as diverged, but the generated update only looks at the parameters it writes; so the
/// backward merge gives that channel's γ a NaN gradient, the update makes γ NaN, and the step's
/// <see cref="StepResult.ParametersFinite"/> is false. The step is lost either way: its moving
/// statistics are already unusable.</para>
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public sealed class BatchNormState
{
    private readonly float[] _gamma, _beta, _movingMean, _movingVar, _gradGamma, _gradBeta;

    /// <summary>State for a layer with <paramref name="channels"/> channels over <paramref name="positions"/> values per image and channel.</summary>
    public BatchNormState(int channels, int positions, double epsilon, double momentum,
        float[] gamma, float[] beta, float[] movingMean, float[] movingVar, float[] gradGamma, float[] gradBeta)
    {
        Channels = channels;
        Positions = positions;
        Epsilon = epsilon;
        Momentum = momentum;
        _gamma = gamma; _beta = beta; _movingMean = movingMean; _movingVar = movingVar;
        _gradGamma = gradGamma; _gradBeta = gradBeta;
        Mean = new float[channels];
        InvStd = new float[channels];
        Scale = new float[channels];
        BatchMean = new double[channels];
        BatchVar = new double[channels];
        GradScale = new float[channels];
        GradC1 = new float[channels];
        GradMeanDy = new float[channels];
        InferScale = new float[channels];
        InferShift = new float[channels];
    }

    /// <summary>Channels (4-D) or features (2-D).</summary>
    public int Channels { get; }
    /// <summary>Values per image and channel (H·W for 4-D, 1 for 2-D).</summary>
    public int Positions { get; }
    /// <summary>Added to the variance.</summary>
    public double Epsilon { get; }
    /// <summary>Weight of the old moving statistic.</summary>
    public double Momentum { get; }

    /// <summary>Last training batch's mean, in double.</summary>
    public double[] BatchMean { get; }
    /// <summary>Last training batch's biased variance, in double.</summary>
    public double[] BatchVar { get; }
    /// <summary>Mean used by the kernels (batch mean in training, moving mean in inference).</summary>
    public float[] Mean { get; }
    /// <summary>1/sqrt(var + eps) used by the kernels.</summary>
    public float[] InvStd { get; }
    /// <summary>γ·invstd: the epilogue computes y = (x − Mean)·Scale + β.</summary>
    public float[] Scale { get; }
    /// <summary>Backward: a = γ·invstd.</summary>
    public float[] GradScale { get; }
    /// <summary>Backward: c1 = −a·invstd²·R2/M.</summary>
    public float[] GradC1 { get; }
    /// <summary>Backward: the mean of dy, R1/M, subtracted from dy before the scaling: dx = a·(dy − R1/M) +
    /// c1·(x − μ), exact when every dy of a channel is the same (a batch of one over features).</summary>
    public float[] GradMeanDy { get; }

    /// <summary>Merges forward partials laid out [unit][channel][K,S1,S2][lane], one unit per chunk of
    /// <paramref name="lanes"/> images (a 2-D layer is the case of one position per image), then sets
    /// the batch statistics, the kernels' coefficients and the moving averages. Within a chunk every
    /// lane shares the shift K, so the lanes' sums add directly; chunks are merged with Chan's formula.</summary>
    public void MergeChunks(ReadOnlySpan<float> partials, long unitStride, int batch, int lanes)
    {
        int units = (batch + lanes - 1) / lanes;
        for (int c = 0; c < Channels; c++)
        {
            // Move every chunk's sums to one shift, the first chunk's K: with d = K_u − K,
            // Σ(x−K) = S1 + n·d and Σ(x−K)² = S2 + 2d·S1 + n·d². d is of the order of the standard
            // deviation (both shifts are samples of the channel), so nothing cancels, and the sums
            // are added in chunk order: the result does not depend on the thread count.
            double k = partials[c * 3 * lanes];
            double s1 = 0, s2 = 0, n = 0;
            for (int u = 0; u < units; u++)
            {
                ReadOnlySpan<float> p = partials.Slice((int)(u * unitStride) + c * 3 * lanes, 3 * lanes);
                int valid = LaneLayout.Valid(u, batch, lanes);
                double nu = (double)valid * Positions, d = p[0] - k;
                double t1 = SumLanes(p.Slice(lanes, valid)), t2 = SumLanes(p.Slice(2 * lanes, valid));
                s1 += t1 + nu * d;
                s2 += t2 + 2 * d * t1 + nu * d * d;
                n += nu;
            }
            double mean = s1 / n;
            Finish(c, k + mean, Math.Max(0.0, s2 / n - mean * mean));
            UpdateMoving(c);
        }
    }

    /// <summary>Sum of a chunk's lanes, in a fixed order (SIMD for whole chunks).</summary>
    private static double SumLanes(ReadOnlySpan<float> values)
    {
        if (values.Length == System.Numerics.Vector<float>.Count) return System.Numerics.Vector.Sum(new System.Numerics.Vector<float>(values));
        if (values.Length == 2 * System.Numerics.Vector<float>.Count)
            return System.Numerics.Vector.Sum(new System.Numerics.Vector<float>(values) + new System.Numerics.Vector<float>(values.Slice(System.Numerics.Vector<float>.Count)));
        double s = 0;
        foreach (float v in values) s += v;
        return s;
    }

    private void Finish(int c, double mean, double variance)
    {
        BatchMean[c] = mean;
        BatchVar[c] = variance;
        double invStd = 1.0 / Math.Sqrt(variance + Epsilon);
        Mean[c] = (float)mean;
        InvStd[c] = (float)invStd;
        Scale[c] = (float)(_gamma[c] * invStd);
    }

    /// <summary>moving = m·moving + (1−m)·batch for one channel.</summary>
    private void UpdateMoving(int c)
    {
        _movingMean[c] = (float)(Momentum * _movingMean[c] + (1 - Momentum) * BatchMean[c]);
        _movingVar[c] = (float)(Momentum * _movingVar[c] + (1 - Momentum) * BatchVar[c]);
    }

    /// <summary>Inference: γ/sqrt(moving_var + eps), from the moving statistics.</summary>
    public float[] InferScale { get; }
    /// <summary>Inference: β − moving_mean·InferScale.</summary>
    public float[] InferShift { get; }

    /// <summary>True when the last batch's mean and variance, and the moving statistics updated
    /// from them, are finite.</summary>
    public bool StatisticsFinite
    {
        get
        {
            for (int c = 0; c < Channels; c++)
                if (!double.IsFinite(BatchMean[c]) || !double.IsFinite(BatchVar[c]) || !MovingFinite(c)) return false;
            return true;
        }
    }

    private bool MovingFinite(int c) => float.IsFinite(_movingMean[c]) && float.IsFinite(_movingVar[c]);

    /// <summary>Sets <see cref="InferScale"/> and <see cref="InferShift"/> from the moving statistics.</summary>
    public void PrepareInference()
    {
        for (int c = 0; c < Channels; c++)
        {
            double scale = _gamma[c] / Math.Sqrt(_movingVar[c] + Epsilon);
            InferScale[c] = (float)scale;
            InferShift[c] = (float)(_beta[c] - _movingMean[c] * scale);
        }
    }

    /// <summary>Folds inference batch norm into the producer before it: w' = w·scale per output
    /// channel (each output channel's weights are contiguous), b' = b·scale + shift.</summary>
    public void Fold(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> foldedWeights, Span<float> foldedBias)
    {
        PrepareInference();
        int perChannel = weights.Length / Channels;
        for (int c = 0; c < Channels; c++)
        {
            float scale = InferScale[c];
            for (int i = c * perChannel; i < (c + 1) * perChannel; i++) foldedWeights[i] = weights[i] * scale;
            foldedBias[c] = (float)((double)bias[c] * scale + InferShift[c]);
        }
    }

    /// <summary>Merges backward partials [unit][channel][R1,R2][lane] and sets dγ, dβ and the dx
    /// coefficients. The kernels' per-lane sums are compensated; here they are added in double, lane
    /// by lane and chunk by chunk in a fixed order, R2 is moved from the float mean the kernels used
    /// to the double batch mean (Σ dy·(x − μ) = Σ dy·(x − m) + (m − μ)·Σ dy), and 1/σ is taken in
    /// double: dγ and dβ, sums that can nearly cancel, keep the accuracy of their terms.</summary>
    public void MergeGradChunks(ReadOnlySpan<float> partials, long unitStride, int batch, int lanes)
    {
        int units = (batch + lanes - 1) / lanes;
        for (int c = 0; c < Channels; c++)
        {
            double r1 = 0, r2 = 0;
            for (int u = 0; u < units; u++)
            {
                ReadOnlySpan<float> p = partials.Slice((int)(u * unitStride) + c * 2 * lanes, 2 * lanes);
                int valid = LaneLayout.Valid(u, batch, lanes);
                for (int l = 0; l < valid; l++) { r1 += p[l]; r2 += p[lanes + l]; }
            }
            r2 += ((double)Mean[c] - BatchMean[c]) * r1;
            FinishGrad(c, r1, r2, (double)batch * Positions);
        }
    }

    private void FinishGrad(int c, double r1, double r2, double m)
    {
        double invStd = 1.0 / Math.Sqrt(BatchVar[c] + Epsilon);
        double a = _gamma[c] * invStd;
        // A non-finite moving statistic makes the step diverged: see the class remarks.
        _gradGamma[c] = MovingFinite(c) ? (float)(r2 * invStd) : float.NaN;
        _gradBeta[c] = (float)r1;
        GradScale[c] = (float)a;
        GradC1[c] = (float)(-a * invStd * invStd * r2 / m);
        GradMeanDy[c] = (float)(r1 / m);
    }
}
