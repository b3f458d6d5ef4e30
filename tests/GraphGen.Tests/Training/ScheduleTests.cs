using System;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>Learning-rate schedules at the steps where their value is known by hand.</summary>
public class ScheduleTests
{
    // 10 epochs of 10 steps: 100 steps, base rate 2.
    private static double At(LearningRateSchedule s, long step, int stepsPerEpoch = 10, int epochs = 10) => s.Rate(2f, step, stepsPerEpoch, epochs);

    [Fact]
    public void Constant_is_the_base_rate_bit_for_bit()
    {
        var s = new ConstantSchedule();
        foreach (long t in new long[] { 0, 1, 57, 99 }) Assert.Equal(1.0f, s.Rate(1.0f, t, 10, 10));
        Assert.Equal(0.123f, s.Rate(0.123f, 5, 10, 10));
    }

    [Fact]
    public void Warmup_rises_linearly_to_the_schedules_first_rate()
    {
        // 1.5 epochs of 4 steps = 6 warmup steps: 2·(t+1)/6, then the constant 2.
        var s = new ConstantSchedule { WarmupEpochs = 1.5 };
        double[] expected = [2 / 6.0, 4 / 6.0, 1, 8 / 6.0, 10 / 6.0, 2, 2, 2];
        for (int t = 0; t < expected.Length; t++) Assert.Equal(expected[t], At(s, t, stepsPerEpoch: 4, epochs: 3), 6);

        // A warmup in front of a cosine: the cosine starts after it, over the remaining 90 steps.
        var c = new CosineSchedule { WarmupEpochs = 1 };
        Assert.Equal(0.2, At(c, 0), 6);
        Assert.Equal(2.0, At(c, 9), 6);
        Assert.Equal(2.0, At(c, 10), 6);
        Assert.Equal(1.0, At(c, 10 + 45), 6); // half way through the cosine
    }

    [Fact]
    public void Step_decays_by_gamma_every_step_epochs()
    {
        var s = new StepSchedule { StepEpochs = 3, Gamma = 0.5 };
        Assert.Equal(2.0, At(s, 0), 6);
        Assert.Equal(2.0, At(s, 29), 6);
        Assert.Equal(1.0, At(s, 30), 6);
        Assert.Equal(0.5, At(s, 60), 6);
        Assert.Equal(0.25, At(s, 99), 6);
    }

    [Fact]
    public void Cosine_falls_from_the_base_rate_through_the_midpoint_towards_the_minimum()
    {
        var s = new CosineSchedule();
        Assert.Equal(2.0, At(s, 0), 6);
        Assert.Equal(1.0, At(s, 50), 6);                                  // (1 + cos π/2)/2 = 1/2
        Assert.Equal(2 * (1 + Math.Cos(Math.PI * 0.25)) / 2, At(s, 25), 6); // 1.7071
        Assert.Equal(2 * (1 + Math.Cos(Math.PI * 0.99)) / 2, At(s, 99), 6);
        var floor = new CosineSchedule { MinFactor = 0.1 };
        Assert.Equal(2 * 0.55, At(floor, 50), 6);
    }

    [Fact]
    public void One_cycle_starts_at_max_over_25_peaks_at_30_percent_and_ends_at_max_over_250000()
    {
        // PyTorch's OneCycleLR(max_lr=2, total_steps=100): step 0 → 0.08, step 29 (0.3·100 − 1) → 2,
        // step 99 → 2/25/1e4 = 8e-6, and half way down (step 29 + 35 = 64) → (2 + 8e-6)/2.
        var s = new OneCycleSchedule();
        Assert.Equal(0.08, At(s, 0), 7);
        Assert.Equal(2.0, At(s, 29), 6);
        Assert.Equal(8e-6, At(s, 99), 9);
        Assert.Equal((2 + 8e-6) / 2, At(s, 64), 6);
        for (int t = 1; t <= 29; t++) Assert.True(At(s, t) > At(s, t - 1));
        for (int t = 30; t < 100; t++) Assert.True(At(s, t) < At(s, t - 1));
    }

    [Fact]
    public void Settings_out_of_range_are_refused_with_their_name()
    {
        Assert.Contains("WarmupEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => At(new ConstantSchedule { WarmupEpochs = 11 }, 0)).Message);
        Assert.Contains("Gamma", Assert.Throws<ArgumentOutOfRangeException>(() => At(new StepSchedule { Gamma = 0 }, 0)).Message);
        Assert.Contains("StepEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => At(new StepSchedule { StepEpochs = 0 }, 0)).Message);
        Assert.Contains("MinFactor", Assert.Throws<ArgumentOutOfRangeException>(() => At(new CosineSchedule { MinFactor = 2 }, 0)).Message);
        Assert.Contains("PctStart", Assert.Throws<ArgumentOutOfRangeException>(() => At(new OneCycleSchedule { PctStart = 1 }, 0)).Message);
        Assert.Contains("baseRate", Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule().Rate(float.NaN, 0, 1, 1)).Message);
    }
}
