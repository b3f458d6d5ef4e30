using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Execution;
using GraphGen.Tests.Checkpoints;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>
/// The optimizers' arithmetic. First on one or two scalars with values computed by hand (the
/// optimizer runs on a bare <see cref="NetworkCore"/>); then on a real network over several steps
/// against a double-precision re-implementation written here from PyTorch's documented formulas,
/// with weight decay, a warmup schedule and gradient clipping.
/// </summary>
public class OptimizerTests
{
    /// <summary>A core with tensors "w" [1,1] (decayed by default) and "b" [1] (a bias: not decayed), and the
    /// <see cref="FakeNetwork"/> an optimizer attaches to.</summary>
    private sealed class Scalars : IDisposable
    {
        public readonly FakeNetwork Net = new("Scalars", ("w", [1, 1]), ("b", [1]));
        public readonly NetworkCore Core;

        public Scalars(float w, float b)
        {
            Core = new NetworkCore("Scalars", [1], 1, [], Net.Tensors.ToArray(), new NetworkOptions { Threads = 1 });
            Core.Values(0)[0] = w;
            Core.Values(1)[0] = b;
        }

        public float W => Core.Values(0)[0];
        public float B => Core.Values(1)[0];

        /// <summary>Sets the gradients and runs one update.</summary>
        public bool Step(Optimizer o, float lr, float gw, float gb = 0)
        {
            Core.Grad(0)[0] = gw;
            Core.Grad(1)[0] = gb;
            return o.Apply(Core, lr);
        }

        public void Dispose() => Core.Dispose();
    }

    private static Scalars Attached(Optimizer o, float w = 1, float b = 1)
    {
        var s = new Scalars(w, b);
        o.Attach(s.Net);
        return s;
    }

    [Fact]
    public void Momentum_follows_the_hand_computed_sequence()
    {
        // b1 = g = 1, w = 1 − 0.1 = 0.9; b2 = 0.9 + 1 = 1.9, w = 0.71; b3 = 1.71 + 1 = 2.71, w = 0.439.
        using var s = Attached(new Sgd { Momentum = 0.9f });
        var o = (Sgd)Optimizer.Of(s.Net)!;
        double[] expected = [0.9, 0.71, 0.439];
        for (int t = 0; t < 3; t++)
        {
            Assert.True(s.Step(o, 0.1f, 1f));
            Assert.Equal(expected[t], s.W, 6);
        }
        Assert.Equal(3, o.Steps);
        Assert.Equal(2.71, o.StateTensor("optimizer.w.momentum_buffer")[0], 6);
    }

    [Fact]
    public void Nesterov_follows_the_hand_computed_sequence()
    {
        // u = g + μ·b: 1 + 0.9 = 1.9 → 0.81; 1 + 0.9·1.9 = 2.71 → 0.539; 1 + 0.9·2.71 = 3.439 → 0.1951.
        var o = new Sgd { Momentum = 0.9f, Nesterov = true };
        using var s = Attached(o);
        double[] expected = [0.81, 0.539, 0.1951];
        for (int t = 0; t < 3; t++)
        {
            s.Step(o, 0.1f, 1f);
            Assert.Equal(expected[t], s.W, 6);
        }
    }

    [Fact]
    public void Weight_decay_skips_biases_by_default_and_the_filter_changes_that()
    {
        // No gradient: only the decay moves the weight, w ← w − lr·λ·w = 0.99·w per step.
        var o = new Sgd { WeightDecay = 0.1f };
        using var s = Attached(o);
        s.Step(o, 0.1f, 0f);
        s.Step(o, 0.1f, 0f);
        Assert.Equal(0.9801, s.W, 6);
        Assert.Equal(1f, s.B); // rank 1: a bias, excluded

        var all = new Sgd { WeightDecay = 0.1f, DecayFilter = _ => true };
        using var s2 = Attached(all);
        s2.Step(all, 0.1f, 0f);
        Assert.Equal(0.99, s2.B, 6);

        Assert.True(Optimizer.DecaysByDefault(new TensorInfo("conv1.weight", [6, 1, 5, 5], TensorKind.Parameter)));
        Assert.False(Optimizer.DecaysByDefault(new TensorInfo("batchnorm1.gamma", [6], TensorKind.Parameter)));
    }

    [Fact]
    public void Adam_moves_by_the_learning_rate_then_by_the_bias_corrected_ratio()
    {
        // Step 1: m = 0.1, v = 0.001; m̂ = 1, v̂ = 1: w = 1 − 0.1 = 0.9.
        // Step 2 (g = −1): m = 0.09 − 0.1 = −0.01, v = 0.000999 + 0.001 = 0.001999;
        // m̂ = −0.01 / (1 − 0.81) = −0.0526316, v̂ = 0.001999 / (1 − 0.998001) = 1: w = 0.9 + 0.00526316.
        var o = new Adam();
        using var s = Attached(o);
        s.Step(o, 0.1f, 1f);
        Assert.Equal(0.9, s.W, 6);
        s.Step(o, 0.1f, -1f);
        Assert.Equal(0.90526316, s.W, 6);
        Assert.Equal(-0.01, o.StateTensor("optimizer.w.exp_avg")[0], 7);
        Assert.Equal(0.001999, o.StateTensor("optimizer.w.exp_avg_sq")[0], 8);
        Assert.Equal(2f, o.StateTensor(Optimizer.StepTensor)[0]);
    }

    [Fact]
    public void Adam_adds_the_decay_to_the_gradient_and_AdamW_shrinks_the_weight()
    {
        // Adam, λ = 0.5, g = 0: the gradient becomes λ·w = 0.5, and Adam's first step moves by lr.
        var adam = new Adam { WeightDecay = 0.5f };
        using var a = Attached(adam);
        a.Step(adam, 0.1f, 0f);
        Assert.Equal(0.9, a.W, 6);

        // AdamW, λ = 0.5, g = 0: w ← w·(1 − 0.1·0.5) each step, and the Adam part moves nothing (m = 0).
        var adamw = new AdamW { WeightDecay = 0.5f };
        using var w = Attached(adamw);
        w.Step(adamw, 0.1f, 0f);
        Assert.Equal(0.95, w.W, 6);
        w.Step(adamw, 0.1f, 0f);
        Assert.Equal(0.9025, w.W, 6);
        Assert.Equal(1f, w.B); // the bias is not decayed
        Assert.Equal(0.01f, new AdamW().WeightDecay); // PyTorch's default
    }

    [Fact]
    public void Clipping_scales_the_global_norm_down_to_the_maximum_and_leaves_small_gradients_alone()
    {
        // g = (3, 4): norm 5; clipped to norm 1 it is (0.6, 0.8)·5/(5 + 1e-6). Plain SGD with lr 1 then subtracts it.
        var clipped = new Sgd { MaxGradientNorm = 1 };
        using var s = Attached(clipped, 0, 0);
        s.Step(clipped, 1f, 3f, 4f);
        Assert.Equal(5.0, clipped.LastGradientNorm, 12);
        Assert.Equal(-0.6 * 5 / (5 + 1e-6), s.W, 6);
        Assert.Equal(-0.8 * 5 / (5 + 1e-6), s.B, 6);

        var loose = new Sgd { MaxGradientNorm = 10 };
        using var s2 = Attached(loose, 0, 0);
        s2.Step(loose, 1f, 3f, 4f);
        Assert.Equal(-3f, s2.W);
        Assert.Equal(-4f, s2.B);
    }

    [Fact]
    public void State_tensors_are_named_shaped_and_of_their_own_kind()
    {
        var o = new Adam();
        using var s = Attached(o);
        Assert.Equal(["optimizer.step", "optimizer.w.exp_avg", "optimizer.w.exp_avg_sq", "optimizer.b.exp_avg", "optimizer.b.exp_avg_sq"],
            o.State.Select(t => t.Name));
        Assert.All(o.State, t => Assert.Equal(TensorKind.OptimizerState, t.Kind));
        Assert.Equal([1, 1], o.State[1].Shape);
        var plain = new Sgd();
        plain.Attach(new FakeNetwork("N", ("w", [2])));
        Assert.Equal(["optimizer.step"], plain.State.Select(t => t.Name)); // no momentum: no buffer
        var e = Assert.Throws<ArgumentException>(() => o.StateTensor("optimizer.w.momentum_buffer"));
        Assert.Contains("optimizer.w.exp_avg", e.Message);
    }

    [Fact]
    public void Bad_settings_and_a_second_network_are_refused_with_the_setting_named()
    {
        var net = new FakeNetwork("N", ("w", [2]));
        Assert.Contains("Momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd { Momentum = 1 }.Attach(net)).Message);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd { Nesterov = true }.Attach(net)).Message);
        Assert.Contains("WeightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW { WeightDecay = -1 }.Attach(net)).Message);
        Assert.Contains("Beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam { Beta2 = 1 }.Attach(net)).Message);
        Assert.Contains("MaxGradientNorm", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam { MaxGradientNorm = double.NaN }.Attach(net)).Message);
        Assert.Null(Optimizer.Of(net)); // nothing was attached by the failed calls

        var o = new Adam();
        o.Attach(net);
        Assert.Throws<InvalidOperationException>(() => o.Attach(new FakeNetwork("M", ("w", [2]))));
        Assert.Same(o, Optimizer.Of(net));
        Optimizer.Detach(net);
        Assert.Null(Optimizer.Of(net));
    }

    // ------------------------------------------------------------------ a real network, several steps

    public static TheoryData<string> Kinds() => new() { "sgd", "momentum", "nesterov", "adam", "adamw" };

    private static Optimizer Make(string kind, double clip) => kind switch
    {
        "sgd" => new Sgd { WeightDecay = 0.01f, MaxGradientNorm = clip },
        "momentum" => new Sgd { Momentum = 0.9f, WeightDecay = 0.01f, MaxGradientNorm = clip },
        "nesterov" => new Sgd { Momentum = 0.8f, Nesterov = true, WeightDecay = 0.01f, MaxGradientNorm = clip },
        "adam" => new Adam { WeightDecay = 0.01f, MaxGradientNorm = clip },
        "adamw" => new AdamW { WeightDecay = 0.1f, Beta1 = 0.8, Beta2 = 0.99, MaxGradientNorm = clip },
        _ => throw new ArgumentException(kind),
    };

    /// <summary>
    /// Six steps of <see cref="Mlp"/> with a 4-step linear warmup; at each step a twin network with the same
    /// weights gives the raw gradient of the same batch, and a double-precision optimizer written here
    /// (its own moments, bias corrections, decay and clipping) predicts the weights after the step.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Several_steps_match_a_double_precision_reimplementation(string kind)
    {
        foreach (double clip in new[] { 0.0, 0.05 })
        {
            using var net = new Mlp(new NetworkOptions { Seed = 4, Threads = 1, MaxBatch = 16 });
            using var twin = new Mlp(new NetworkOptions { Seed = 5, Threads = 1, MaxBatch = 16 });
            Optimizer optimizer = Make(kind, clip);
            optimizer.Attach(net);
            var reference = new ReferenceOptimizer(kind, optimizer, net);
            var schedule = new ConstantSchedule { WarmupEpochs = 1 };
            float baseRate = kind.StartsWith("adam", StringComparison.Ordinal) ? 0.01f : 0.3f;
            var rng = new Random(8);
            bool clippedOnce = false;
            for (int t = 0; t < 6; t++)
            {
                float[] x = Enumerable.Range(0, 16 * 20).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
                int[] y = Enumerable.Range(0, 16).Select(_ => rng.Next(3)).ToArray();
                float lr = schedule.Rate(baseRate, t, stepsPerEpoch: 4, epochs: 3);
                Assert.Equal(baseRate * Math.Min(t + 1, 4) / 4.0, lr, 6); // the warmup, by hand

                foreach (TensorInfo info in net.Tensors) net.Tensor(info.Name).CopyTo(twin.Tensor(info.Name));
                twin.TrainStep(x, y, 0f);
                var before = net.Tensors.Where(i => i.Kind == TensorKind.Parameter).ToDictionary(i => i.Name, i => net.Tensor(i.Name).ToArray());
                var gradients = before.Keys.ToDictionary(n => n, n => twin.Gradient(n).ToArray());

                Assert.True(net.TrainStep(x, y, lr).IsFinite);
                var expected = reference.Step(before, gradients, lr, t + 1);
                clippedOnce |= clip > 0 && reference.LastScale < 1;
                foreach (var (name, w) in expected)
                {
                    ReadOnlySpan<float> actual = net.Tensor(name);
                    for (int i = 0; i < w.Length; i++)
                    {
                        double tolerance = 2e-6 + 2e-6 * Math.Abs(w[i]);
                        Assert.True(Math.Abs(actual[i] - w[i]) <= tolerance,
                            $"{kind}, clip {clip}, step {t + 1}: {name}[{i}] = {actual[i]:R}, reference {w[i]:R}");
                    }
                }
            }
            Assert.Equal(clip > 0, clippedOnce); // the clipping case did clip
            Assert.Equal(6, optimizer.Steps);
        }
    }

    /// <summary>The optimizers in double precision, from PyTorch's documented update rules (no code shared).</summary>
    private sealed class ReferenceOptimizer(string kind, Optimizer settings, INetwork net)
    {
        private readonly Dictionary<string, double[]> _m = new(), _v = new();
        private readonly HashSet<string> _decayed = net.Tensors.Where(t => t.Kind == TensorKind.Parameter && t.Shape.Length > 1).Select(t => t.Name).ToHashSet();

        public double LastScale { get; private set; } = 1;

        public Dictionary<string, double[]> Step(Dictionary<string, float[]> weights, Dictionary<string, float[]> gradients, double lr, int t)
        {
            double norm = Math.Sqrt(gradients.Values.Sum(g => g.Sum(v => (double)v * v)));
            LastScale = settings.MaxGradientNorm > 0 ? Math.Min(1, settings.MaxGradientNorm / (norm + 1e-6)) : 1;
            var result = new Dictionary<string, double[]>();
            foreach (var (name, w32) in weights)
            {
                double lambda = _decayed.Contains(name) ? settings.WeightDecay : 0;
                double[] w = w32.Select(v => (double)v).ToArray();
                double[] g = gradients[name].Select(v => v * LastScale).ToArray();
                double[] m = _m.TryGetValue(name, out var mm) ? mm : _m[name] = new double[w.Length];
                double[] v = _v.TryGetValue(name, out var vv) ? vv : _v[name] = new double[w.Length];
                for (int i = 0; i < w.Length; i++)
                {
                    switch (kind)
                    {
                        case "sgd":
                            w[i] -= lr * (g[i] + lambda * w[i]);
                            break;
                        case "momentum":
                        case "nesterov":
                        {
                            double mu = ((Sgd)settings).Momentum, d = g[i] + lambda * w[i];
                            m[i] = t == 1 ? d : mu * m[i] + d;
                            w[i] -= lr * (kind == "nesterov" ? d + mu * m[i] : m[i]);
                            break;
                        }
                        default:
                        {
                            var adam = (Adam)settings;
                            double gi = g[i];
                            if (kind == "adam") gi += lambda * w[i];
                            else w[i] *= 1 - lr * lambda;
                            m[i] = adam.Beta1 * m[i] + (1 - adam.Beta1) * gi;
                            v[i] = adam.Beta2 * v[i] + (1 - adam.Beta2) * gi * gi;
                            double mHat = m[i] / (1 - Math.Pow(adam.Beta1, t)), vHat = v[i] / (1 - Math.Pow(adam.Beta2, t));
                            w[i] -= lr * mHat / (Math.Sqrt(vHat) + adam.Epsilon);
                            break;
                        }
                    }
                }
                result[name] = w;
            }
            return result;
        }
    }

    [Fact]
    public void Plain_sgd_attached_is_bit_identical_to_no_optimizer()
    {
        using var a = new Mlp(new NetworkOptions { Seed = 2, Threads = 2, MaxBatch = 16 });
        using var b = new Mlp(new NetworkOptions { Seed = 2, Threads = 2, MaxBatch = 16 });
        new Sgd().Attach(b);
        var rng = new Random(3);
        for (int t = 0; t < 3; t++)
        {
            float[] x = Enumerable.Range(0, 16 * 20).Select(_ => (float)rng.NextDouble()).ToArray();
            int[] y = Enumerable.Range(0, 16).Select(_ => rng.Next(3)).ToArray();
            a.TrainStep(x, y, 0.7f);
            b.TrainStep(x, y, 0.7f);
        }
        Guarantees.Bits.AssertIdentical(Guarantees.Bits.Snapshot(a), Guarantees.Bits.Snapshot(b), "Sgd() vs no optimizer");
    }

    [Fact]
    public void The_update_allocates_nothing()
    {
        foreach (Optimizer? o in new Optimizer?[] { null, new Sgd { Momentum = 0.9f, WeightDecay = 1e-3f, MaxGradientNorm = 0.1 }, new AdamW { MaxGradientNorm = 0.1 } })
        {
            using var net = new Mlp(new NetworkOptions { Seed = 2, Threads = 1, MaxBatch = 16 });
            o?.Attach(net);
            var x = new float[16 * 20];
            var y = new int[16];
            for (int i = 0; i < x.Length; i++) x[i] = (i % 7) * 0.3f;
            net.TrainStep(x, y, 0.1f);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int t = 0; t < 5; t++) net.TrainStep(x, y, 0.1f);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before == 0, $"{o?.Kind ?? "no optimizer"}: {GC.GetAllocatedBytesForCurrentThread() - before} bytes");
        }
    }
}
