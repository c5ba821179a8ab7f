# bench/lib.sh - shell helpers the benchmarks share; sourced, not run.

# free_port - an unused TCP port on 127.0.0.1
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT - until something listens there (30 s at most; 1 if never)
wait_port() { /usr/bin/python3 -c "
import socket,sys,time
for i in range(300):
    try: socket.create_connection(('127.0.0.1',$1),1).close(); sys.exit(0)
    except OSError: time.sleep(0.1)
sys.exit(1)"; }

# postfix_dirs DIR - a private Postfix instance's queue ($DIR/queue) and
# data directory ($DIR/data), owned and moded as postfix(1) would make them
postfix_dirs() {
	for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		mkdir -p "$1/queue/$d"; chown postfix "$1/queue/$d"; chmod 700 "$1/queue/$d"
	done
	mkdir -p "$1/queue/pid" "$1/queue/public" "$1/queue/maildrop" "$1/data"
	chown postfix:postdrop "$1/queue/public" "$1/queue/maildrop"
	chmod 710 "$1/queue/public"; chmod 1730 "$1/queue/maildrop"
	chown postfix "$1/data"
}
