using System;

namespace GraphGen.Training;

/// <summary>
/// The learning rate of each step of a run, a pure function of the step number (so a resumed run gets
/// exactly the rates of an uninterrupted one). Every schedule takes an optional linear warmup: over
/// the first W = round(<see cref="WarmupEpochs"/> × steps per epoch) steps the rate rises linearly,
/// (t+1)/W times the schedule's first rate; the schedule itself then runs over the remaining steps
/// (t − W of T − W, as PyTorch's <c>SequentialLR</c> chains a warmup and a schedule). The rates are
/// computed in double and rounded to float once.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Length of the linear warmup in epochs (fractions allowed; default 0: none).</summary>
    public double WarmupEpochs { get; init; }

    /// <summary>The rate of step <paramref name="step"/> (0-based, counted over the whole run) of a run of
    /// <paramref name="epochs"/> epochs of <paramref name="stepsPerEpoch"/> steps whose base (peak) rate is
    /// <paramref name="baseRate"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument or a setting of the schedule is out of range.</exception>
    public float Rate(float baseRate, long step, int stepsPerEpoch, int epochs)
    {
        if (!float.IsFinite(baseRate) || baseRate < 0) throw new ArgumentOutOfRangeException(nameof(baseRate), baseRate, "the base learning rate must be finite and not negative");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (!(WarmupEpochs >= 0 && WarmupEpochs <= epochs))
            throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, $"the warmup must be between 0 and the run's {epochs} epochs");
        long total = (long)stepsPerEpoch * epochs;
        long warmup = (long)Math.Round(WarmupEpochs * stepsPerEpoch, MidpointRounding.AwayFromZero);
        long length = Math.Max(1, total - warmup);
        double rate = step < warmup
            ? Factor(0, length, stepsPerEpoch) * (step + 1) / warmup
            : Factor(Math.Min(step - warmup, length - 1), length, stepsPerEpoch);
        return (float)(baseRate * rate);
    }

    /// <summary>The schedule's multiple of the base rate at step <paramref name="t"/> of <paramref name="length"/> (after the warmup).</summary>
    private protected abstract double Factor(long t, long length, int stepsPerEpoch);
}

/// <summary>The base rate throughout (after the warmup, if any).</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    private protected override double Factor(long t, long length, int stepsPerEpoch) => 1.0;
}

/// <summary>PyTorch's <c>StepLR</c>: the base rate times <see cref="Gamma"/>^⌊epoch / <see cref="StepEpochs"/>⌋,
/// epochs counted from the end of the warmup.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    /// <summary>Epochs between two decays (default 3).</summary>
    public int StepEpochs { get; init; } = 3;

    /// <summary>Factor of each decay (default 0.1).</summary>
    public double Gamma { get; init; } = 0.1;

    private protected override double Factor(long t, long length, int stepsPerEpoch)
    {
        if (StepEpochs < 1) throw new ArgumentOutOfRangeException(nameof(StepEpochs), StepEpochs, "decay every 1 or more epochs");
        if (!(Gamma > 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "the decay factor must be in (0, 1]");
        return Math.Pow(Gamma, t / ((long)StepEpochs * stepsPerEpoch));
    }
}

/// <summary>Cosine annealing (PyTorch's <c>CosineAnnealingLR</c> with T_max = the steps after the warmup, no
/// restarts): from the base rate r towards m = r·<see cref="MinFactor"/> as m + (r − m)·(1 + cos(π·t/T))/2.</summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    /// <summary>The final rate as a fraction of the base rate (default 0).</summary>
    public double MinFactor { get; init; }

    private protected override double Factor(long t, long length, int stepsPerEpoch)
    {
        if (!(MinFactor >= 0 && MinFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(MinFactor), MinFactor, "the final fraction must be in [0, 1]");
        return MinFactor + (1 - MinFactor) * (1 + Math.Cos(Math.PI * t / length)) / 2;
    }
}

/// <summary>
/// One-cycle (Smith &amp; Topin 2019) as PyTorch's <c>OneCycleLR</c> with cosine annealing, two phases
/// (https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html): the rate rises
/// from r/<see cref="DivFactor"/> to the base (maximum) rate r over the first <see cref="PctStart"/> of the
/// steps, then falls to r/(<see cref="DivFactor"/>·<see cref="FinalDivFactor"/>) at the last step, each
/// phase along a half cosine.
/// </summary>
public sealed class OneCycleSchedule : LearningRateSchedule
{
    /// <summary>Fraction of the steps spent rising (default 0.3).</summary>
    public double PctStart { get; init; } = 0.3;

    /// <summary>Initial rate = maximum / this (default 25).</summary>
    public double DivFactor { get; init; } = 25;

    /// <summary>Final rate = initial / this (default 1e4).</summary>
    public double FinalDivFactor { get; init; } = 1e4;

    private protected override double Factor(long t, long length, int stepsPerEpoch)
    {
        if (!(PctStart > 0 && PctStart < 1)) throw new ArgumentOutOfRangeException(nameof(PctStart), PctStart, "the rising fraction must be in (0, 1)");
        if (!(DivFactor >= 1 && double.IsFinite(DivFactor))) throw new ArgumentOutOfRangeException(nameof(DivFactor), DivFactor, "the initial divisor must be at least 1");
        if (!(FinalDivFactor >= 1 && double.IsFinite(FinalDivFactor))) throw new ArgumentOutOfRangeException(nameof(FinalDivFactor), FinalDivFactor, "the final divisor must be at least 1");
        double initial = 1 / DivFactor, final = initial / FinalDivFactor;
        double peak = PctStart * length - 1, last = length - 1;
        if (t <= peak) return Anneal(initial, 1, peak <= 0 ? 1 : t / peak);
        return Anneal(1, final, last <= peak ? 1 : (t - peak) / (last - peak));
    }

    /// <summary>PyTorch's <c>_annealing_cos</c>: from <paramref name="start"/> to <paramref name="end"/> as <paramref name="pct"/> goes 0 → 1.</summary>
    private static double Anneal(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
}
