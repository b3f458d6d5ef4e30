using System;
using GraphGen.Quantization;

namespace GraphGen.Tests.Quantization;

/// <summary>The quantized computation written out plainly, independently of the runtime's kernels: a
/// convolution as the textbook sum of (code − zero point)·weight over the padded window in long integers,
/// plus the bias; each output code by the requantization rule applied directly (no table): the pre-activation
/// sum·input scale·weight scale, in float32 as a multiple x of the layer's grid step (x = float(sum) ·
/// float(input scale·weight scale / step)), clamped to the grid, rounded half to even to i, and the code
/// quantize(f(i·step)); a fused max-pool applied afterwards on the codes (no commuting); tables replaced by
/// their formula.</summary>
internal static class QuantizedReference
{
    private static byte Q(double x, float scale, int zeroPoint)
    {
        double q = Math.Round(x / scale, MidpointRounding.ToEven) + zeroPoint;
        return (byte)Math.Clamp(double.IsNaN(q) ? zeroPoint : q, 0, 255);
    }

    private static double F(Activation act, double slope, double x) => act switch
    {
        Activation.Identity => x,
        Activation.ReLU => Math.Max(0, x),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        Activation.LeakyReLU => x >= 0 ? x : slope * x,
        _ => x / (1 + Math.Exp(-x)), // SiLU
    };

    public static float[] Logits(QuantizedNetwork net, float[] input)
    {
        var values = net.Values;
        var codes = new byte[values.Length][];
        codes[0] = new byte[values[0].Size];
        for (int i = 0; i < codes[0].Length; i++) codes[0][i] = Q(input[i], values[0].Scale, values[0].ZeroPoint);
        float[]? logits = null;
        foreach (var op in net.Ops)
        {
            var x = codes[op.Inputs[0]];
            var xv = values[op.Inputs[0]];
            var yv = values[op.Output];
            var y = codes[op.Output] = new byte[yv.Size];
            switch (op)
            {
                case LinearOp l:
                {
                    int depth = l.Conv ? l.C * l.K * l.K : l.C;
                    var full = new double[l.O * l.OH * l.OW]; // the logit or the output code per position
                    for (int o = 0; o < l.O; o++)
                    for (int oy = 0; oy < l.OH; oy++)
                    for (int ox = 0; ox < l.OW; ox++)
                    {
                        long sum = l.Bias[o];
                        for (int k = 0; k < depth; k++)
                        {
                            int code;
                            if (l.Conv)
                            {
                                int c = k / (l.K * l.K), ky = k / l.K % l.K, kx = k % l.K;
                                int iy = oy * l.S + ky - l.P, ix = ox * l.S + kx - l.P;
                                bool inside = iy >= 0 && iy < l.H && ix >= 0 && ix < l.W;
                                code = inside ? x[(c * l.H + iy) * l.W + ix] : xv.ZeroPoint;
                            }
                            else code = x[k];
                            sum += (long)(code - xv.ZeroPoint) * l.Weight[o * depth + k];
                        }
                        double multiplier = (double)xv.Scale * l.WeightScale[o];
                        if (l.Final) full[(o * l.OH + oy) * l.OW + ox] = F(l.Act, l.Slope, sum * multiplier);
                        else
                        {
                            float x32 = (float)sum * (float)(multiplier / l.GridStep);
                            double i = Math.Round(Math.Clamp(x32, l.GridLo, l.GridHi), MidpointRounding.ToEven);
                            full[(o * l.OH + oy) * l.OW + ox] = Q(F(l.Act, l.Slope, i * l.GridStep), yv.Scale, yv.ZeroPoint);
                        }
                    }
                    if (l.Final)
                    {
                        logits = new float[full.Length];
                        for (int i = 0; i < full.Length; i++) logits[i] = (float)full[i];
                        break;
                    }
                    int pk = Math.Max(l.PoolK, 1), ps = l.PoolK > 0 ? l.PoolS : 1;
                    for (int o = 0; o < l.O; o++)
                    for (int py = 0; py < l.PH; py++)
                    for (int px = 0; px < l.PW; px++)
                    {
                        int best = 0;
                        for (int dy = 0; dy < pk; dy++)
                        for (int dx = 0; dx < pk; dx++)
                            best = Math.Max(best, (int)full[(o * l.OH + py * ps + dy) * l.OW + px * ps + dx]);
                        y[(o * l.PH + py) * l.PW + px] = (byte)best;
                    }
                    break;
                }
                case LookupOp t:
                    for (int i = 0; i < y.Length; i++)
                    {
                        double real = (x[i] - xv.ZeroPoint) * (double)xv.Scale;
                        int c = i / t.ChannelSize;
                        y[i] = Q(t.A is null ? F(t.Act, t.Slope, real) : real * t.A[c] + t.B![c], yv.Scale, yv.ZeroPoint);
                    }
                    break;
                case PoolOp p:
                    for (int c = 0; c < p.C; c++)
                    for (int oy = 0; oy < p.OH; oy++)
                    for (int ox = 0; ox < p.OW; ox++)
                    {
                        int max = 0, sum = 0;
                        for (int dy = 0; dy < p.KH; dy++)
                        for (int dx = 0; dx < p.KW; dx++)
                        {
                            int v = x[(c * p.H + oy * p.S + dy) * p.W + ox * p.S + dx];
                            max = Math.Max(max, v);
                            sum += v;
                        }
                        // The mean code (same scale and zero point), rounded half to even in integers.
                        int n = p.KH * p.KW, mean = sum / n, rest = sum % n;
                        if (2 * rest > n || (2 * rest == n && mean % 2 == 1)) mean++;
                        y[(c * p.OH + oy) * p.OW + ox] = (byte)(p.Max ? max : mean);
                    }
                    break;
                case AddOp:
                {
                    var b = codes[op.Inputs[1]];
                    var bv = values[op.Inputs[1]];
                    for (int i = 0; i < y.Length; i++)
                        y[i] = Q((x[i] - xv.ZeroPoint) * (double)xv.Scale + (b[i] - bv.ZeroPoint) * (double)bv.Scale, yv.Scale, yv.ZeroPoint);
                    break;
                }
                default: throw new InvalidOperationException(op.GetType().Name);
            }
        }
        if (logits is null)
        {
            var last = values[net.Ops[^1].Output];
            var codesOut = codes[net.Ops[^1].Output];
            logits = new float[codesOut.Length];
            for (int i = 0; i < logits.Length; i++) logits[i] = (float)((codesOut[i] - last.ZeroPoint) * (double)last.Scale);
        }
        return logits;
    }
}
