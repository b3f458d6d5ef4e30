namespace GraphGen.Onnx.Nodes;

/// <summary>Tanh → Tanh.</summary>
internal sealed class TanhNode : UnaryNode
{
    public override LayerKind Kind => LayerKind.Tanh;
    protected override string OpType => "Tanh";
}
