using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers.Activations;

/// <summary>[LeakyReLU(slope)]: x for x &gt; 0, slope·x otherwise (0 ≤ slope &lt; 1, checked by the shape
/// rules as GG0026, so it keeps order); the derivative is 1 or slope, from the output's sign.</summary>
internal sealed class LeakyReLU : ActivationKind
{
    public override LayerKind Kind => LayerKind.LeakyReLU;
    public override string AttributeName => nameof(LeakyReLUAttribute);
    public override string Stem => "leakyrelu";
    public override LayerSpec Read(IArgumentReader a) => new(Kind, 0, 0, false, 0, 0, 0, 0, 0, Slope: DoubleOr(a.Positional(0), 0.01));
    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (!(s.Slope >= 0 && s.Slope < 1))
            f.Report(nameof(LeakyReLUAttribute.Slope), DiagnosticDescriptors.InvalidSlope, f.What, s.Slope.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
    }
    public override string Forward(LayerModel layer, string x) => $"{VMath}.LeakyRelu<TV, S>({x}, S.Create({Single(layer.Slope)}))";
    public override string Derivative(LayerModel layer, string output, string input) => $"{VMath}.LeakyReluGrad<TV, S>({output}, S.Create({Single(layer.Slope)}))";

    public override string InfoProperties(LayerModel l) => $", Slope = {Num(l.Slope)}";
}
