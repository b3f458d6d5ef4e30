using System;
using System.Runtime.Intrinsics;
using GraphGen.Simd;
using Xunit;

namespace GraphGen.Tests.Runtime;

/// <summary>The vector transcendental functions against System.Math, on every SIMD path.</summary>
public class VMathTests
{
    private delegate float Unary(float x);

    private static Unary Lift<TV, S>(Func<TV, TV> f) where TV : struct where S : IVectorOps<TV>
        => x =>
        {
            Span<float> buffer = stackalloc float[16];
            buffer.Fill(x);
            S.Store(f(S.Load(ref buffer[0], 0)), ref buffer[0], 0);
            return buffer[0];
        };

    private static Unary Exp(string path) => path switch
    {
        "512" => Lift<Vector512<float>, Vec512>(VMath.Exp<Vector512<float>, Vec512>),
        "256" => Lift<Vector256<float>, Vec256>(VMath.Exp<Vector256<float>, Vec256>),
        "128" => Lift<Vector128<float>, Vec128>(VMath.Exp<Vector128<float>, Vec128>),
        _ => Lift<float, VecScalar>(VMath.Exp<float, VecScalar>),
    };

    private static Unary Sigmoid(string path) => path switch
    {
        "512" => Lift<Vector512<float>, Vec512>(VMath.Sigmoid<Vector512<float>, Vec512>),
        "256" => Lift<Vector256<float>, Vec256>(VMath.Sigmoid<Vector256<float>, Vec256>),
        "128" => Lift<Vector128<float>, Vec128>(VMath.Sigmoid<Vector128<float>, Vec128>),
        _ => Lift<float, VecScalar>(VMath.Sigmoid<float, VecScalar>),
    };

    private static Unary Tanh(string path) => path switch
    {
        "512" => Lift<Vector512<float>, Vec512>(VMath.Tanh<Vector512<float>, Vec512>),
        "256" => Lift<Vector256<float>, Vec256>(VMath.Tanh<Vector256<float>, Vec256>),
        "128" => Lift<Vector128<float>, Vec128>(VMath.Tanh<Vector128<float>, Vec128>),
        _ => Lift<float, VecScalar>(VMath.Tanh<float, VecScalar>),
    };

    [Theory]
    [InlineData("512")] [InlineData("256")] [InlineData("128")] [InlineData("scalar")]
    public void ExpIsWithinTwoUlpsAndSaturatesCleanly(string path)
    {
        var exp = Exp(path);
        double worst = 0;
        for (double x = -87; x <= 88; x += 0.00731)
        {
            double expected = Math.Exp((float)x);
            double got = exp((float)x);
            worst = Math.Max(worst, Math.Abs(got - expected) / expected);
        }
        Assert.True(worst < 2.5e-7, $"max relative error {worst:G3}");
        Assert.Equal(1f, exp(0f));
        Assert.True(float.IsFinite(exp(1000f)) && exp(1000f) > 1e38f);
        Assert.True(exp(-1000f) >= 0f && exp(-1000f) < 1e-37f);
    }

    private static Unary Relu(string path) => path switch
    {
        "512" => Lift<Vector512<float>, Vec512>(VMath.Relu<Vector512<float>, Vec512>),
        "256" => Lift<Vector256<float>, Vec256>(VMath.Relu<Vector256<float>, Vec256>),
        "128" => Lift<Vector128<float>, Vec128>(VMath.Relu<Vector128<float>, Vec128>),
        _ => Lift<float, VecScalar>(VMath.Relu<float, VecScalar>),
    };

    /// <summary>The clamps use single-instruction min/max; NaN must still come out as NaN, or a
    /// diverging network would look finite.</summary>
    [Theory]
    [InlineData("512")] [InlineData("256")] [InlineData("128")] [InlineData("scalar")]
    public void NaNPropagatesThroughEveryFunction(string path)
    {
        Assert.True(float.IsNaN(Exp(path)(float.NaN)));
        Assert.True(float.IsNaN(Sigmoid(path)(float.NaN)));
        Assert.True(float.IsNaN(Tanh(path)(float.NaN)));
        Assert.True(float.IsNaN(Relu(path)(float.NaN)));
        Assert.Equal(0f, Relu(path)(-3f));
        Assert.Equal(2.5f, Relu(path)(2.5f));
    }

    [Theory]
    [InlineData("512")] [InlineData("256")] [InlineData("128")] [InlineData("scalar")]
    public void SigmoidAndTanhAreAccurate(string path)
    {
        var sigmoid = Sigmoid(path);
        var tanh = Tanh(path);
        double worstSigmoid = 0, worstTanh = 0, worstTanhRelative = 0;
        for (double x = -30; x <= 30; x += 0.00917)
        {
            float f = (float)x;
            worstSigmoid = Math.Max(worstSigmoid, Math.Abs(sigmoid(f) - 1 / (1 + Math.Exp(-f))));
            double t = Math.Tanh(f);
            worstTanh = Math.Max(worstTanh, Math.Abs(tanh(f) - t));
            if (Math.Abs(t) > 1e-30) worstTanhRelative = Math.Max(worstTanhRelative, Math.Abs(tanh(f) - t) / Math.Abs(t));
        }
        Assert.True(worstSigmoid < 3e-7, $"sigmoid: max error {worstSigmoid:G3}");
        Assert.True(worstTanh < 3e-7, $"tanh: max error {worstTanh:G3}");
        Assert.True(worstTanhRelative < 2e-6, $"tanh: max relative error {worstTanhRelative:G3}");
        Assert.Equal(1e-6f, tanh(1e-6f), 12); // small arguments keep their relative precision
        Assert.Equal(0.5f, sigmoid(0f));
        Assert.Equal(1f, sigmoid(100f));
        Assert.InRange(sigmoid(-100f), 0f, 1e-38f);
    }
}
