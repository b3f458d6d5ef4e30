using System;
using System.Linq;
using GraphGen.Tests.Nets;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Nets
{
    /// <summary>A batch norm on the input, a 1×1 convolution, a second batch norm, global average
    /// pooling (as in the head of a ResNet): batchnorm1's γ and β gradients are sums that cancel.
    /// batchnorm2's input gradient dz is orthogonal to 1 and (up to ε) to z − mean per channel, and z
    /// is affine in batchnorm1's output through the 1×1 conv, so Σ dy₁ = Σₖ wₖ Σ dzₖ = 0 and
    /// Σ dy₁·x̂₁ = Σₖ Σ dzₖ (zₖ − μₖ) / (wₖ γ₁) ≈ 0. The global pool hands batchnorm2 the same dy at
    /// all 4,096 positions of an image, the worst case for a sum taken in order in float.</summary>
    [Network(Channels = 1, Height = 64, Width = 64)]
    [BatchNorm] [Conv2D(4, Kernel = 1)] [BatchNorm] [AvgPool2D(64)]
    [Dense(3)]
    public partial class CancellingBatchNorm { }
}

namespace GraphGen.Tests.Numerics
{
    /// <summary>
    /// Batch-norm γ and β gradients are sums over the batch and positions, Σ dy·x̂ and Σ dy, that can
    /// nearly or completely cancel. A float sum of n terms taken in order has an error that grows with
    /// n times the running partial sums; summed exactly or pairwise, float32 terms give an error of
    /// the order of u·Σ|terms|, u = 2⁻²⁴, which is what float32 frameworks reach. These tests measure
    /// the error against the double-precision reference in units of u·Σ|terms| (the terms themselves
    /// from the reference) on every SIMD path.
    /// </summary>
    public class BatchNormGradientAccuracyTests
    {
        private const double U = 5.9604644775390625e-8; // 2^-24, float32's unit roundoff

        /// <summary>Error bound in units of u·Σ|terms|. What is left after exact summation is the rounding
        /// of the terms' inputs, which here is correlated (one pooled gradient per image and channel,
        /// float coefficients shared by a whole channel): measured up to 6.3 on this machine. The sums
        /// taken in order in float were 370 to 720 times u·Σ|terms| off for batchnorm1.β and up to 9
        /// for its γ (see the commit that added this test).</summary>
        private const double Bound = 16;

        private readonly ITestOutputHelper _output;

        public BatchNormGradientAccuracyTests(ITestOutputHelper output) => _output = output;

        /// <summary>Smooth images (neighbouring pixels alike, as in real ones), so the terms of a sum are
        /// correlated over positions and an in-order float sum drifts far from zero before it comes back.</summary>
        private static float[] SmoothImages(int n, int seed)
        {
            var rng = new Random(seed);
            var x = new float[n * 64 * 64];
            for (int i = 0; i < n; i++)
            {
                double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 2 - 1, fh = 0.05 + 0.15 * rng.NextDouble(), fw = 0.05 + 0.15 * rng.NextDouble();
                for (int h = 0; h < 64; h++)
                    for (int w = 0; w < 64; w++)
                        x[(i * 64 + h) * 64 + w] = (float)(0.5 + 0.3 * a * Math.Sin(fh * h) + 0.3 * b * Math.Cos(fw * w) + 0.02 * rng.NextDouble());
            }
            return x;
        }

        [Theory]
        [InlineData(SimdPath.Scalar, 24)]
        [InlineData(SimdPath.Vector128, 24)]
        [InlineData(SimdPath.Vector256, 24)]
        [InlineData(SimdPath.Vector512, 24)]
        [InlineData(SimdPath.Scalar, 45)]
        [InlineData(SimdPath.Vector128, 45)]
        [InlineData(SimdPath.Vector256, 45)]
        [InlineData(SimdPath.Vector512, 45)]
        public void Gamma_and_beta_gradients_are_as_accurate_as_float32_allows(SimdPath simd, int batch)
        {
            using var net = Create(simd);
            var reference = new ReferenceNetwork(net);
            float[] x = SmoothImages(batch, seed: batch);
            int[] labels = Enumerable.Range(0, batch).Select(i => i % 3).ToArray();
            var (_, _, grads) = reference.LossAndGradients(TestNets.ToDouble(x), labels);
            net.TrainStep(x, labels, 0f);

            double gammaCancellation = 0, betaCancellation = 0;
            // Layers: 0 batchnorm1, 1 conv1, 2 batchnorm2, 3 avgpool1 (global), 4 dense1.
            foreach (var (layer, name) in new[] { (0, "batchnorm1"), (2, "batchnorm2") })
            {
                double[] input = reference.LayerInput(layer), dy = reference.OutputGradients[layer];
                var (mean, variance) = reference.BatchStatistics(layer);
                int channels = mean.Length, positions = input.Length / batch / channels;
                for (int c = 0; c < channels; c++)
                {
                    double invStd = 1 / Math.Sqrt(variance[c] + 1e-5), gammaTerms = 0, betaTerms = 0;
                    for (int i = 0; i < batch; i++)
                        for (int p = 0; p < positions; p++)
                        {
                            int at = (i * channels + c) * positions + p;
                            gammaTerms += Math.Abs(dy[at] * (input[at] - mean[c]) * invStd);
                            betaTerms += Math.Abs(dy[at]);
                        }
                    if (layer == 0) (gammaCancellation, betaCancellation) = (gammaTerms / Math.Abs(grads[name + ".gamma"][c]), betaTerms / Math.Abs(grads[name + ".beta"][c]));
                    double gammaError = Math.Abs(net.Gradient(name + ".gamma")[c] - grads[name + ".gamma"][c]) / (U * gammaTerms);
                    double betaError = Math.Abs(net.Gradient(name + ".beta")[c] - grads[name + ".beta"][c]) / (U * betaTerms);
                    _output.WriteLine($"{simd} batch {batch} {name}[{c}]: Σ|terms|/|sum| γ {gammaTerms / Math.Abs(grads[name + ".gamma"][c]):G3}, β {betaTerms / Math.Abs(grads[name + ".beta"][c]):G3}; " +
                                      $"error / (u·Σ|terms|) γ {gammaError:F3}, β {betaError:F3}");
                    Assert.True(gammaError <= Bound, $"{name}.gamma[{c}] on {simd}: error {gammaError:F2} u·Σ|terms|");
                    Assert.True(betaError <= Bound, $"{name}.beta[{c}] on {simd}: error {betaError:F2} u·Σ|terms|");
                }
            }
            // The cancelling case is really exercised: batchnorm1's γ sum is 10⁴ times smaller than the
            // sum of its terms' sizes (only ε keeps it from 0) and its β sum is 0 up to double rounding.
            Assert.True(gammaCancellation > 5e3 && betaCancellation > 1e9, $"batchnorm1: Σ|terms|/|sum| = {gammaCancellation:G3} (γ), {betaCancellation:G3} (β)");
        }

        private static INetwork Create(SimdPath simd)
        {
            var net = new CancellingBatchNorm(new NetworkOptions { Seed = 7, Simd = simd, Threads = 1, MaxBatch = 64 });
            TestNets.Randomize(net, 7);
            return net;
        }
    }
}
