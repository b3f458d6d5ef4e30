using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers.Activations;

/// <summary>[SiLU] (swish): x·σ(x). It has a minimum at x ≈ −1.28, so it does not keep order (a max pool
/// must see its outputs, not its inputs), and its derivative σ(x)·(1 + x·(1 − σ(x))) needs the input.</summary>
internal sealed class SiLU : ActivationKind
{
    public override LayerKind Kind => LayerKind.SiLU;
    public override string AttributeName => nameof(SiLUAttribute);
    public override string Stem => "silu";
    public override bool IsMonotonic => false;
    public override bool GradientFromInput => true;
    public override string Forward(LayerModel layer, string x) => $"{VMath}.Silu<TV, S>({x})";
    public override string Derivative(LayerModel layer, string output, string input) => $"{VMath}.SiluGrad<TV, S>({input})";
}
