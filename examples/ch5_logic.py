"""Chapters 5–6: XOR from perceptrons (§5.3), and any boolean expression compiled to a
network whose every row is verified (§6.3)."""

import deltagrad as dg

print(dg.explain.logic(dg.logic.gate("xor"), [0, 1]).to_text())
net = dg.logic.compile("(x1 and x2) or (x3 xor x4)", strategy="minimal")
print(net.describe())
print("verified:", bool(dg.logic.verify(net, "(x1 and x2) or (x3 xor x4)")))
