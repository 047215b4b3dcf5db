# shellcheck shell=bash
# Cluster PKI made with openssl (sourced by up.sh; needs common.sh): one CA,
# the API server's serving and kubelet-client certificates, one client
# certificate and kubeconfig per component, and the service-account key pair.
# Made once per state directory and kept across restarts.

# make_cert signs NAME.crt/NAME.key with the CA. SANS is an openssl
# subjectAltName list ("" for a client-only certificate).
make_cert() {
  local name=$1 subject=$2 usage=$3 sans=$4 ext
  [[ -f $PKI_DIR/$name.crt ]] && return 0
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr"
  # -set_serial: a random 128-bit serial for every certificate.
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "$ext" \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI_DIR/$name.csr"
}

# write_kubeconfig writes a kubeconfig for client certificate NAME.
write_kubeconfig() {
  local name=$1 out=$2
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cloudbase
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: cloudbase
  context: {cluster: cloudbase, user: $name}
current-context: cloudbase
EOF
  chmod 600 "$out"
}

make_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  if [[ ! -f $PKI_DIR/ca.crt ]]; then
    log "creating the cluster CA and certificates in $PKI_DIR"
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=cloudbase-cluster-ca" -days 3650 \
      -set_serial "0x$(openssl rand -hex 16)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$PKI_DIR/ca.crt"
  fi
  [[ -f $PKI_DIR/sa.key ]] || {
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  }
  local svc=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
  make_cert apiserver "/CN=kube-apiserver" serverAuth \
    "IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME,$svc"
  make_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth ""
  make_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  # The aggregation layer's proxy client; the API server trusts its
  # X-Remote-* headers only from this certificate's name.
  make_cert front-proxy-client "/CN=front-proxy-client" clientAuth ""
  make_cert admin "/O=system:masters/CN=cloudbase-admin" clientAuth ""
  make_cert controller-manager "/CN=system:kube-controller-manager" clientAuth ""
  make_cert scheduler "/CN=system:kube-scheduler" clientAuth ""
  make_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth ""
  make_cert kube-proxy "/CN=system:kube-proxy" clientAuth ""
  # Traefik's default TLS certificate (traefik/traefik.yaml, TLSStore "default"). Without one, Traefik
  # generates a new RSA-2048 key at every configuration rebuild (traefik/traefik#7831).
  make_cert traefik-default "/CN=$TRAEFIK_DEFAULT_CERT_CN" serverAuth "DNS:traefik.invalid"
  write_kubeconfig admin "$KUBECONFIG_ADMIN"
  local c
  for c in controller-manager scheduler kubelet kube-proxy; do
    write_kubeconfig "$c" "$STATE_DIR/$c.kubeconfig"
  done
}
