#!/usr/bin/python3
"""Runs the simulator (tests/sim/hss_sim.py, unchanged) with a deeper listen
backlog.

The simulator's listeners use socketserver's request_queue_size = 128. When a
poller opens ~200 TLS connections at the same instant (measurement 2 of the
bench, 200 accounts with MaxConcurrency 200), the kernel's accept queue
overflows, SYNs are dropped and those clients retry after the 1 s SYN
retransmission timeout: the round then measures the simulator's accept loop,
not the plugin. This wrapper only raises the backlog (the kernel caps it at
net.core.somaxconn) and then runs the simulator's own main().

Usage: sim_backlog.py BACKLOG [hss_sim.py arguments...]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import hss_sim  # noqa: E402  (after the path change)


def main():
    backlog = int(sys.argv[1])
    hss_sim.SimServer.request_queue_size = backlog
    return hss_sim.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
